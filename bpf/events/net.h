/* Event structs of the net family; part of the contract in bpf/events.h (mirror:
 * src/agent/collector/events/net.ts). Every struct starts with struct vigil_hdr hdr. */
#pragma once
