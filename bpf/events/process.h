/* Event structs of the process family; part of the contract in bpf/events.h (mirror:
 * src/agent/collector/events/process.ts). Every struct starts with struct vigil_hdr hdr. */
#pragma once
