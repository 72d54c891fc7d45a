#!/usr/bin/env bash
# compose-wait.sh waits until every container of the compose project is
# running and healthy (all of ours have health checks) and every one-shot
# container (nats-init) has exited 0, or fails after WAIT_TIMEOUT seconds
# (default 240) showing the laggards' last logs.
set -euo pipefail
cd "$(dirname "$0")/.."
read -r -a compose <<<"${COMPOSE:-docker-compose}"
timeout="${WAIT_TIMEOUT:-240}"
start=$SECONDS

states() {
  local ids
  ids="$("${compose[@]}" ps -q)"
  [[ -n "$ids" ]] || return 0
  # shellcheck disable=SC2086
  docker inspect -f '{{.Name}} {{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}} {{.State.ExitCode}} {{.HostConfig.RestartPolicy.Name}}' $ids
}

# done: healthy and running, or a one-shot (restart "no") that exited 0.
while :; do
  pending="$(states | awk '!(($2 == "running" && $3 == "healthy") || ($2 == "exited" && $4 == 0 && $5 == "no"))')"
  if [[ -z "$pending" && -n "$(states)" ]]; then
    echo "all containers healthy after $((SECONDS - start))s"
    exit 0
  fi
  if ((SECONDS - start > timeout)); then
    echo "not healthy after ${timeout}s:" >&2
    echo "$pending" >&2
    for name in $(awk '{print substr($1, 2)}' <<<"$pending"); do
      echo "--- $name" >&2
      docker logs --tail 20 "$name" >&2 || true
    done
    exit 1
  fi
  sleep 2
done
