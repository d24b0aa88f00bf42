"""The PostgreSQL protocol v3 server behind ``dsql serve``.

One module per concept:

- ``backend``    the Protocols the server needs from the SQL engine (Session, Backend,
                 ClientChannel) and the StartupInfo it hands over; the engine implements them
- ``framing``    splitting the byte stream into messages, with length caps
- ``messages``   encoding backend messages and reading frontend message fields
- ``binary``     binary wire formats of the supported types (both directions)
- ``values``     per-column text/binary encoders, DataRow building, parameter decoding
- ``copyformat`` COPY text and csv row formats (helpers for the engine's COPY)
- ``auth``       trust, cleartext, md5 and SCRAM-SHA-256; the RoleStore Protocol
- ``startup``    startup packet parsing (parameters, options, protocol version)
- ``tls``        TLS contexts, self-signed certificates
- ``portal``     prepared statements and portals of one connection
- ``query``      the per-connection message processor (simple and extended query, COPY)
- ``connection`` the asyncio.Protocol: handshake, inbox, worker hand-off, timeouts
- ``server``     listening socket, connection registry, cancel, shutdown
- ``factory``    the backend for a data directory
- ``runner``     running a server in a thread or as the ``dsql serve`` main loop
"""
