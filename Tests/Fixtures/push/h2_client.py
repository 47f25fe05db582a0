"""A minimal blocking HTTP/2-over-TLS client for the checks the reference clients cannot make (hand-made headers,
a chosen JWT per request, reading the server's SETTINGS)."""
import socket
import ssl

from h2.config import H2Configuration
from h2.connection import H2Connection
from h2.events import (ConnectionTerminated, DataReceived, RemoteSettingsChanged, ResponseReceived, StreamEnded,
                       StreamReset)
from h2.settings import SettingCodes


class H2Client:
    def __init__(self, port, cafile, host="localhost"):
        context = ssl.create_default_context(cafile=cafile)
        context.set_alpn_protocols(["h2"])
        self.sock = context.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10),
                                        server_hostname=host)
        self.alpn = self.sock.selected_alpn_protocol()
        self.conn = H2Connection(H2Configuration(client_side=True, header_encoding="utf-8",
                                                 validate_outbound_headers=False, normalize_outbound_headers=False))
        self.conn.initiate_connection()
        self.sock.sendall(self.conn.data_to_send())
        self.max_streams = None
        self.goaway = None
        self.host = host

    def read_events(self):
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("the server closed the connection")
        events = self.conn.receive_data(data)
        for event in events:
            if isinstance(event, RemoteSettingsChanged) and SettingCodes.MAX_CONCURRENT_STREAMS in \
                    event.changed_settings:
                self.max_streams = event.changed_settings[SettingCodes.MAX_CONCURRENT_STREAMS].new_value
            if isinstance(event, ConnectionTerminated):
                self.goaway = event
        self.sock.sendall(self.conn.data_to_send())
        return events

    def settle(self):
        """Reads until the server's first SETTINGS arrived."""
        while self.max_streams is None:
            self.read_events()

    def request(self, method, path, headers=(), body=b""):
        """Sends one request and waits for its answer: (status, headers as a dict, body bytes)."""
        stream_id = self.conn.get_next_available_stream_id()
        base = [(":method", method), (":scheme", "https"), (":path", path), (":authority", self.host)]
        self.conn.send_headers(stream_id, base + list(headers), end_stream=not body)
        if body:
            self.conn.send_data(stream_id, body, end_stream=True)
        self.sock.sendall(self.conn.data_to_send())
        status, answer, data = None, {}, bytearray()
        while True:
            for event in self.read_events():
                if isinstance(event, ResponseReceived) and event.stream_id == stream_id:
                    answer = dict(event.headers)
                    status = int(answer[":status"])
                elif isinstance(event, DataReceived) and event.stream_id == stream_id:
                    data.extend(event.data)
                    self.conn.acknowledge_received_data(event.flow_controlled_length, stream_id)
                elif isinstance(event, StreamEnded) and event.stream_id == stream_id:
                    self.sock.sendall(self.conn.data_to_send())
                    return status, answer, bytes(data)
                elif isinstance(event, StreamReset) and event.stream_id == stream_id:
                    raise ConnectionError(f"stream {stream_id} reset")
                elif isinstance(event, ConnectionTerminated):
                    raise ConnectionError(f"GOAWAY {event.additional_data!r}")

    def close(self):
        self.sock.close()
