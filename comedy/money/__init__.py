"""The owner's money: list prices (`pricing`), each visitor's and the club's day (`budget`), one
set's bookkeeping (`spend`) and its meters (`meters`). Pure."""

__all__ = [
    "budget",
    "meters",
    "pricing",
    "spend",
]
