"""The client's address behind a reverse proxy (issue #16, item 2): users.clientip."""

from django.test import RequestFactory, override_settings
from hypothesis import given
from hypothesis import strategies as st

from kvartplata.users.clientip import client_ip

rf = RequestFactory()


def ip_of(peer, xff=None):
    extra = {"REMOTE_ADDR": peer}
    if xff is not None:
        extra["HTTP_X_FORWARDED_FOR"] = xff
    return client_ip(rf.get("/", **extra))


def test_it_takes_the_peer_when_no_proxy_is_trusted(settings):
    settings.TRUSTED_PROXIES = []
    assert ip_of("127.0.0.1", "203.0.113.7") == "127.0.0.1"


def test_it_takes_the_address_the_trusted_proxy_reports(settings):
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    assert ip_of("127.0.0.1", "203.0.113.7") == "203.0.113.7"


def test_it_ignores_what_the_client_wrote_before_the_proxy(settings):
    # The client sent "X-Forwarded-For: 198.51.100.1"; nginx appended the real peer.
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    assert ip_of("127.0.0.1", "198.51.100.1, 203.0.113.7") == "203.0.113.7"


def test_it_ignores_a_spoofed_header_from_an_untrusted_peer(settings):
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    assert ip_of("203.0.113.9", "127.0.0.1, 10.1.1.1") == "203.0.113.9"


def test_it_skips_a_chain_of_trusted_proxies(settings):
    # Load balancer 10.0.0.5 in front of nginx on 127.0.0.1.
    settings.TRUSTED_PROXIES = ["127.0.0.1", "10.0.0.0/8"]
    assert ip_of("127.0.0.1", "198.51.100.1, 203.0.113.7, 10.0.0.5") == "203.0.113.7"


def test_it_stops_at_a_hop_that_is_not_an_address(settings):
    settings.TRUSTED_PROXIES = ["127.0.0.1", "10.0.0.0/8"]
    assert ip_of("127.0.0.1", "203.0.113.7, junk, 10.0.0.5") == "10.0.0.5"
    assert ip_of("127.0.0.1", "") == "127.0.0.1"
    assert ip_of("127.0.0.1") == "127.0.0.1"


def test_it_reads_ports_and_ipv6(settings):
    settings.TRUSTED_PROXIES = ["::1", "127.0.0.1"]
    assert ip_of("::1", "[2001:db8::7]:443") == "2001:db8::7"
    assert ip_of("::ffff:127.0.0.1", "203.0.113.7:51234") == "203.0.113.7"


def test_it_answers_none_without_a_peer_address(settings):
    assert ip_of("") is None


hops = st.lists(st.one_of(st.ip_addresses().map(str), st.text(max_size=12)), max_size=5)
untrusted_v4 = st.ip_addresses(v=4).map(str).filter(lambda ip: ip != "127.0.0.1")


@given(peer=untrusted_v4, forged=hops)
def test_it_never_believes_an_untrusted_peer(peer, forged):
    with override_settings(TRUSTED_PROXIES=["127.0.0.1"]):
        assert ip_of(peer, ", ".join(forged)) == peer


@given(forged=hops, real=untrusted_v4)
def test_it_never_lets_the_client_choose_its_address_behind_the_proxy(forged, real):
    # Whatever the client writes, nginx (127.0.0.1) appends the real peer: that is the answer.
    with override_settings(TRUSTED_PROXIES=["127.0.0.1"]):
        assert ip_of("127.0.0.1", ", ".join([*forged, real])) == real
