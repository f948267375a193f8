"""raw_http.py: one GET on a connected socket, by hand, for the clients
that must own every call on their socket (no http.client in the way).

get(sock, path) sends the request, reads the head and then as many body
bytes as Content-Length says, and returns the status line; a connection
closed before the response is whole raises OSError.
"""


def get(sock, path):
    sock.sendall(b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % path.encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise OSError("connection closed before the response")
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    length = [int(l.split(b":")[1]) for l in head.split(b"\r\n")
              if l.lower().startswith(b"content-length")][0]
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise OSError("connection closed in the body")
        body += chunk
    return head.split(b"\r\n")[0].decode()
