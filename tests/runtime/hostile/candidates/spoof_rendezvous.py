"""Opens a listener on the loopback, calls its port torch's rendezvous (MASTER_PORT) and
talks to it: a local service dressed up as the ranks' rendezvous."""

import os
import socket

from _base import tiny_lm

server = socket.socket()
server.bind(("127.0.0.1", 0))
server.listen(1)
port = server.getsockname()[1]
os.environ["MASTER_PORT"] = str(port)
client = socket.create_connection(("127.0.0.1", port), timeout=5)
peer, _ = server.accept()
client.sendall(b"hint")
peer.recv(4)
tiny_lm.main()
