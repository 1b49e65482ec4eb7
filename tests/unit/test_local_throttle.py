"""The local usage-plan throttle: a token bucket per key, sized by the plan as it is now."""

from __future__ import annotations

from cutout.local.throttle import KeyThrottle


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_key_gets_its_burst_then_the_rate_and_keys_do_not_share_a_bucket():
    # Given a plan of 2 requests per second with a burst of 3
    clock = Clock()
    throttle = KeyThrottle(lambda key: (2.0, 3), clock)
    # When one key sends 4 requests at once, Then the burst admits 3
    assert [throttle.admit("a") for _ in range(4)] == [True, True, True, False]
    # And another key has a bucket of its own
    assert throttle.admit("b")
    # When half a second passes, Then one more token came back (the rate), and only one
    clock.now += 0.5
    assert [throttle.admit("a") for _ in range(2)] == [True, False]
    # When a long time passes, Then the bucket refills only up to the burst
    clock.now += 60
    assert [throttle.admit("a") for _ in range(4)] == [True, True, True, False]


def test_a_plan_without_a_throttle_admits_everything_and_forgets_the_bucket():
    # Given a plan whose throttle is removed after a key spent its only token
    clock = Clock()
    limits: dict[str, tuple[float, int] | None] = {"now": (0.0, 1)}
    throttle = KeyThrottle(lambda key: limits["now"], clock)
    assert [throttle.admit("a") for _ in range(2)] == [True, False]
    limits["now"] = None
    # Then every request passes
    assert all(throttle.admit("a") for _ in range(50))
    # And a throttle set again starts from a full bucket
    limits["now"] = (0.0, 1)
    assert [throttle.admit("a") for _ in range(2)] == [True, False]
