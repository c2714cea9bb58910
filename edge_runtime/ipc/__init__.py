"""Hand-offs between threads and processes that never block the control loop.

Latest-value slots (in-process and in shared memory), a shared-memory ring of tick records,
and the `Channels` bundle the runtime and control processes share.
"""
