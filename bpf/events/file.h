/* Event structs of the file family; part of the contract in bpf/events.h (mirror:
 * src/agent/collector/events/file.ts). Every struct starts with struct vigil_hdr hdr. */
#pragma once
