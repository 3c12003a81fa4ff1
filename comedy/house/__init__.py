"""The house comedian: the joke book and the offline voice.

The rehearsal server performs with them, and a live set's outage cover says a bit with them while
OpenAI is away: one comedian, used by both.
"""
