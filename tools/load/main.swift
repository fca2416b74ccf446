// guestapi-load: an HTTP/1.1 load generator for Unix-socket servers.
// Everything lives in LoadCommand; this file is only the entry point, because
// an executable target whose sources include main.swift cannot use @main.
LoadCommand.main()
