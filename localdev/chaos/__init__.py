"""``make chaos``: a seeded month-end of faults over the local world, and an independent proof it held.

``schedule`` decides up front, from the seed, what is injected and when;
``world`` starts and restarts the services; ``source`` writes the stream's
source rows; ``workload`` drives the hub as Power Automate would; ``faults``
flips the sandboxes' and the emulator's switches; ``proof`` reads every store
directly and ``report`` prints the one table.
"""
