// Help texts of vigil-server and its sub-commands (kept beside each other so they agree).
import { DEFAULT_DATA_DIR } from "../config.ts";

export const MAIN_HELP = (version: string) => `vigil-server ${version}: Vigil's server (service discovery, agent center, manager, hub)

Usage:
  vigil-server [options]                 run the roles (default: every role, in one process)
  vigil-server certs init --out DIR --server-hosts HOST,...
                                         create a CA, a server and an agent certificate
  vigil-server events query [options]    print events from the embedded store
  vigil-server user add|passwd|del|list  manage the Manager's users (see "vigil-server user --help")
  vigil-server version

Run options (a YAML file < VIGIL_* environment variables < flags):
  --role ROLES             sd,ac,manager,hub (default: all; hub is not built yet)
  --config FILE            YAML settings file
  --data-dir DIR           state and the event store (default ${DEFAULT_DATA_DIR})   VIGIL_DATA_DIR
  --certs DIR              ca.crt, server.crt/key, internal.secret (default: DATA-DIR/certs,
                           created on first start)                                  VIGIL_CERTS
  --listen ADDR            address of every role (default 0.0.0.0)                  VIGIL_LISTEN
  --sd-port N              SD HTTP (default 8088)                                   VIGIL_SD_PORT
  --ac-port N              AC gRPC for agents (default 6751)                        VIGIL_AC_PORT
  --ac-http-port N         AC HTTP for the Manager (default 6752)                   VIGIL_AC_HTTP_PORT
  --manager-port N         Manager HTTP and console (default 6701)                  VIGIL_MANAGER_PORT
  --database-url URL       Manager database: sqlite:<path> (default DATA-DIR/manager.db)
                           or postgres://user:pass@host:port/db                     VIGIL_DATABASE_URL
  --offline-after D        a host without a heartbeat this long is offline (3m)     VIGIL_OFFLINE_AFTER
  --public-url URL         the Manager URL agents download components from          VIGIL_PUBLIC_URL
  (manager.admin_password / VIGIL_ADMIN_PASSWORD: the first start's admin password;
   else one is generated and logged once)
  --sd URL,...             SD nodes the AC registers with (default: the local SD)  VIGIL_SD
  --sd-peers URL,...       peer SD nodes this SD replicates to                      VIGIL_SD_PEERS
  --sd-ttl DURATION        SD entry lifetime without renewal (default 105s)         VIGIL_SD_TTL
  --advertise-host ADDR    address the AC registers with SD                         VIGIL_ADVERTISE_HOST
  --register-interval D    AC re-registration period (default 30s)                  VIGIL_REGISTER_INTERVAL
  --manager-urls URL,...   Managers the AC forwards heartbeats and task results to,
                           signed, when the Manager role is not in this process
                           (default: none; ignored with the Manager here)           VIGIL_MANAGER_URLS
  --retention DURATION     keep events this long (default 7d)                       VIGIL_RETENTION
  --store-max-bytes SIZE   cap of the event store (default 10GiB)                   VIGIL_STORE_MAX_BYTES
  (internal_secret: only in the YAML file or VIGIL_INTERNAL_SECRET; else CERTS/internal.secret)

YAML keys: roles, data_dir, certs, internal_secret, listen, sd.{port,peers,ttl},
  ac.{grpc_port,http_port,sd,advertise_host,register_interval,manager_urls},
  manager.{port,admin_password,offline_after,token_ttl,public_url,component_max_bytes},
  database.url, store.{retention,max_bytes}
Logging: VIGIL_LOG_LEVEL=debug|info|warn|error, VIGIL_LOG_FORMAT=text|json.
`;

export const CERTS_HELP = `Usage: vigil-server certs init --out DIR --server-hosts HOST,... [options]

Creates DIR/ca.crt, ca.key, server.crt, server.key, agent.crt, agent.key and internal.secret.
  --out DIR                  where to write (refuses to replace an existing CA without --force)
  --server-hosts HOST,...    names and IPs in the server certificate (agents connect to one)
  --agent-name NAME          common name of the agent certificate (default vigil-agent)
  --days N                   validity of the leaf certificates
  --force                    replace an existing CA
`;

export const EVENTS_HELP = `Usage: vigil-server events query [options]   (vigil-server events query --help for the options)
`;
