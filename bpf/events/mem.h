/* Event structs of the memory/misc process events (mmap, mprotect, pipe, memfd_create,
 * nanosleep, mount, module load); part of the contract in bpf/events.h (mirror:
 * src/agent/collector/events/mem.ts). Every struct starts with struct vigil_hdr hdr. */
#pragma once
