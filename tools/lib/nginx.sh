# The benchmarks' reference server, shared by bench-http.sh and bench-scale.sh:
# nginx with one worker per core (as guestapid has one event loop per core), serving static
# files from DIR/root on a Unix socket, with no access log and its file cache on.
#
#   write_nginx_conf DIR SOCKET   writes DIR/nginx.conf; every file nginx writes stays in DIR
write_nginx_conf() {
  local dir=$1 socket=$2
  mkdir -p "$dir/root" "$dir/temp"
  cat >"$dir/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes auto;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 1000000;
    keepalive_timeout 300s;
    default_type application/octet-stream;
    open_file_cache max=64 inactive=60s;
    open_file_cache_valid 60s;
    client_body_temp_path $dir/temp/body;
    proxy_temp_path $dir/temp/proxy;
    fastcgi_temp_path $dir/temp/fastcgi;
    uwsgi_temp_path $dir/temp/uwsgi;
    scgi_temp_path $dir/temp/scgi;
    server {
        listen unix:$socket;
        root $dir/root;
    }
}
EOF
}
