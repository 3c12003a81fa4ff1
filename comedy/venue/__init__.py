"""The venue: the club's front of house with no web framework in it: settings, seats, money, keys,
auditions, the voice battle's votes, and forgetting visitors who left."""

from comedy.venue.front import Venue

__all__ = ["Venue"]
