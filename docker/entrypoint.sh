#!/bin/sh
# Herald's image entry point: the first argument selects the role.
#   api | worker | beat | all   start that process (extra arguments go to node's script)
#   worker --queues=a,b         a worker on those queues: WORKER_QUEUES as an argument, for
#                               platforms without an environment per process (fly.io groups)
#   migrate [run|revert|status] run the migration CLI (default: run); needs only DATABASE_URL
#   herald <command> [...]      the operator CLI (docs/cli.md), e.g. `herald migrate`, `herald health`
# The role process replaces this shell (exec), so it receives SIGTERM directly.
set -eu

role="${1:-${ROLE:-all}}"
[ "$#" -gt 0 ] && shift

# Each role's V8 heap flags (roleNodeFlags in libs/config/src/node-flags.ts, measured in
# docs/benchmarks.md): a worker that does not source leads (WORKER_QUEUES set without
# `sourcing`) also caps its old generation. NODE_OPTIONS from the environment comes after them
# and wins.
role_flags() {
  case "$1" in
    worker)
      queues=$(printf %s "${WORKER_QUEUES:-}" | tr -d ' ')
      case ",$queues," in
        *,sourcing,*) echo "--max-semi-space-size=16" ;;
        *[a-z]*) echo "--max-semi-space-size=16 --max-old-space-size=104" ;;
        *) echo "--max-semi-space-size=16" ;; # empty: every queue
      esac
      ;;
    *) echo "--max-semi-space-size=4" ;;
  esac
}

if [ "$role" = worker ]; then
  case "${1:-}" in
    --queues=*)
      WORKER_QUEUES="${1#--queues=}"
      export WORKER_QUEUES
      shift
      ;;
  esac
fi

case "$role" in
  api | worker | beat | all)
    NODE_OPTIONS="$(role_flags "$role") ${NODE_OPTIONS:-}"
    export NODE_OPTIONS
    exec node "/app/dist/apps/$role/src/main.js" "$@"
    ;;
  migrate)
    [ "$#" -eq 0 ] && set -- run
    exec node /app/dist/libs/persistence/src/cli/migrate.js "$@"
    ;;
  herald)
    exec node /app/dist/apps/cli/src/main.js "$@"
    ;;
  -h | --help | help)
    echo "usage: herald-entrypoint api | worker | beat | all | migrate [run|revert|status] | herald <command>"
    ;;
  *)
    echo "herald-entrypoint: unknown role '$role' (expected api, worker, beat, all, migrate or herald)" >&2
    exit 64
    ;;
esac
