/* Event structs of the cred family; part of the contract in bpf/events.h (mirror:
 * src/agent/collector/events/cred.ts). Every struct starts with struct vigil_hdr hdr. */
#pragma once
