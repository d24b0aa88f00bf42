"""The PostgreSQL protocol v3 server behind ``dsql serve`` (docs/server.md).

One module per concept:

- ``backend``      the Protocols the server needs from the SQL engine (Session, Backend,
                   ClientChannel) and the StartupInfo it hands over; the engine implements them
- ``framing``      splitting the byte stream into messages, with length caps
- ``messages``     encoding backend messages and reading frontend message fields
- ``binary``       binary wire formats of the supported types (both directions)
- ``values``       per-column text/binary encoders, DataRow building, parameter decoding
- ``parameters``   reported settings (ParameterStatus) and what the server derives from them
- ``copyformat``   COPY text and csv row formats (helpers for the engine's COPY)
- ``copy``         the ClientChannel: COPY data between the client and a running statement
- ``auth``         secrets, SCRAM-SHA-256, md5, SASLprep; the RoleStore Protocol
- ``login``        the authentication exchange of the startup phase
- ``startup``      startup packet parsing (parameters, options, protocol version)
- ``tls``          TLS contexts, self-signed certificates
- ``portal``       prepared statements and portals of one connection
- ``query``        the per-connection message processor (simple and extended query)
- ``connection``   the asyncio.Protocol: handshake, inbox, worker hand-off, timeouts
- ``socketwriter`` workers writing replies straight to the socket
- ``workers``      the light thread pool that runs connection jobs
- ``server``       listening socket, connection registry, cancel, watchdog, shutdown
- ``config`` / ``options``  settings and the `dsql serve` command line
- ``factory``      the backend for a data directory (the one place to wire the engine)
- ``runner``       running a server in a thread or as the ``dsql serve`` main loop
- ``errors``       the server's SQLSTATE errors
"""
