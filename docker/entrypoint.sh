#!/bin/sh
# Herald's image entry point: the first argument selects the role.
#   api | worker | beat | all   start that process (extra arguments go to node's script)
#   migrate [run|revert|status] run the migration CLI (default: run); needs only DATABASE_URL
#   herald <command> [...]      the operator CLI (docs/cli.md), e.g. `herald migrate`, `herald health`
# The role process replaces this shell (exec), so it receives SIGTERM directly.
set -eu

role="${1:-${ROLE:-all}}"
[ "$#" -gt 0 ] && shift

case "$role" in
  api | worker | beat | all)
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
