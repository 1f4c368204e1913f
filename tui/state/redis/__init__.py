"""The Redis store: one store shared by many processes and machines.

How it fits (being built; see the branch's commits):
- `location.RedisAddress` is what `--store redis://...` names.
- `scripts` holds the layout in Redis and the server-side scripts: each change is one
  script, so the value, the revision counter and the change stream's entry are one
  atomic step for every client.
- `connection.RedisConnection` runs them, reads keys and the stream, and turns every
  redis-py failure into one StateError with the password masked.
- `stream.ChangeStream` follows the change stream (XREAD BLOCK) from a revision on,
  in order and without loss, and says when the stream was trimmed past it.
- Next: `RedisStore`, the `Store` API over a connection: reads go to Redis; writes run
  the scripts; its subscribers are fed by one ChangeStream (its own writes included, so
  every subscriber sees every change once, in revision order); TTLs are Redis's own,
  with a sweeper that records each expiry in the stream; the limits and `wait` as on
  the other stores.
"""
