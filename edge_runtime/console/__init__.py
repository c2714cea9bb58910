"""`edgerun console`: the field engineer's local web page (robot, stop, calibrate, logs).

It is served from the robot and only reads what the runtime publishes
(`edge_runtime.field.live`, the latch, the bundle slots); its actions call the same library
functions as the CLI. aiohttp and Jinja2 come from the `console` extra and are imported only
here (`edge_runtime.console.app`), so the runtime itself never needs them.
"""
