"""The control loop's room: what runs in the control process every period.

Clock and fixed-rate scheduler, real-time knobs, the control step (chunk queue, safety
filter, motors) and the loop's timing summary. Nothing here waits on a camera, an engine or
a disk.
"""
