"""The site holder: subscribers run in order on publish, before current() moves; subscribing calls nothing."""

from __future__ import annotations

from service.config.settings import DEMO_SITE
from service.config.site import Site, load_site
from service.config.site_holder import SiteHolder

OLD = load_site(DEMO_SITE)
NEW = OLD.model_copy(update={"name": "Edited site", "cameras": OLD.cameras[:1]})


def test_subscribers_are_called_in_subscription_order_with_the_new_site() -> None:
    holder, calls = SiteHolder(OLD), []
    for name in ("pipeline", "scenes", "streams"):
        holder.subscribe(lambda site, name=name: calls.append((name, site)))
    holder.publish(NEW)
    assert calls == [("pipeline", NEW), ("scenes", NEW), ("streams", NEW)]
    assert holder.current() is NEW


def test_a_subscriber_still_sees_the_old_site_as_current() -> None:
    holder, seen = SiteHolder(OLD), []

    def listener(site: Site) -> None:
        seen.append(holder.current())

    holder.subscribe(listener)
    holder.subscribe(listener)
    holder.publish(NEW)
    assert seen == [OLD, OLD]
    assert holder.current() is NEW


def test_subscribing_does_not_call_the_listener_until_a_change() -> None:
    holder, calls = SiteHolder(OLD), []
    holder.subscribe(calls.append)
    assert calls == [] and holder.current() is OLD
    holder.publish(NEW)
    holder.publish(OLD)
    assert calls == [NEW, OLD]
