# Sourced by the benchmark scripts: a scratch folder removed on exit with every process started by
# them, free loopback ports, and nginx answering 204 on 127.0.0.1.
#   bench_workdir NAME        sets WORK (mode 755 so nginx's worker can read it) and the EXIT trap
#   free_port                 prints a free TCP port
#   wait_listen PORT          waits until something listens on PORT (5 s at most)
#   start_nginx PORT [LOG]    nginx on PORT answering 204; LOG, when given, is an http-block directive
#                             (e.g. a log_format and access_log); the default logs nothing
PIDS=()
bench_workdir() {
    WORK="$(mktemp -d "/tmp/$1-XXXXXX")"
    chmod 755 "$WORK"
    trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$WORK"' EXIT
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_listen() {
    for _ in $(seq 1 500); do ss -ltnH "sport = :$1" | grep -q . && return 0; sleep 0.01; done
    echo "port $1 never listened" >&2
    exit 1
}
start_nginx() {
    cat > "$WORK/nginx.conf" <<NGINX
worker_processes 1;
daemon off;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log;
events { worker_connections 1024; }
http {
    ${2:-access_log off;}
    client_body_temp_path $WORK;
    keepalive_requests 1000000;
    server { listen 127.0.0.1:$1; location / { return 204; } }
}
NGINX
    nginx -c "$WORK/nginx.conf" & PIDS+=($!)
    wait_listen "$1"
}
