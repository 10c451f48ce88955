"""The SSRF guard as a pure function: a URL and a DNS answer in, a refusal or addresses out.

No test here opens a socket: the resolver is injected, and literal or blocked hosts must be
refused before it is even asked.
"""

from __future__ import annotations

import pytest

from crew.engine.tools.address_guard import BlockedURL, address_allowed, check_url

from .conftest import PUBLIC_IP, resolver

REFUSED_ADDRESSES = [
    "127.0.0.1", "127.8.9.10", "::1",  # loopback
    "10.0.0.1", "172.16.5.4", "172.31.255.255", "192.168.0.1",  # private
    "169.254.1.1", "fe80::1", "fe80::1%eth0",  # link-local
    "169.254.169.254", "fd00:ec2::254", "168.63.129.16", "100.100.100.200", "192.0.0.192",  # cloud metadata
    "fc00::1", "fd12:3456:789a::1",  # unique local fc00::/7
    "0.0.0.0", "::", "0.1.2.3",  # unspecified / "this network"
    "100.64.0.1",  # shared address space (CGNAT)
    "224.0.0.1", "ff02::1", "255.255.255.255", "240.0.0.1",  # multicast, broadcast, reserved
    "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254",  # IPv4-mapped IPv6
    "::127.0.0.1",  # IPv4-compatible IPv6
    "2002:7f00:1::1", "2002:a9fe:a9fe::1",  # 6to4 wrapping 127.0.0.1 and 169.254.169.254
    "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe",  # NAT64 wrapping loopback and metadata
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
    "not an address", "",
]
ALLOWED_ADDRESSES = [PUBLIC_IP, "8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:93.184.216.34"]


@pytest.mark.parametrize("address", REFUSED_ADDRESSES)
def test_non_global_addresses_are_refused(address):
    assert address_allowed(address) is False


@pytest.mark.parametrize("address", ALLOWED_ADDRESSES)
def test_public_addresses_are_allowed(address):
    assert address_allowed(address) is True


def _never(host, port):
    raise AssertionError(f"the resolver must not be asked about {host}")


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8501/admin", "http://[::1]:8501/", "http://[::ffff:127.0.0.1]/", "http://0.0.0.0:8000/",
    "http://169.254.169.254/latest/meta-data/iam/", "http://[fd00:ec2::254]/latest/", "http://10.1.2.3/",
    "https://[fe80::1%25eth0]/", "http://[2002:7f00:1::1]/",
    # inet_aton spellings of 127.0.0.1
    "http://2130706433/", "http://0x7f000001/", "http://0177.0.0.1/", "http://127.1/", "http://0x7f.1/",
    # names that mean this machine, its network or a metadata service
    "http://localhost:8501/", "http://LOCALHOST./", "http://app.localhost/", "http://metadata.google.internal/computeMetadata/v1/",
    "http://metadata/", "http://instance-data/latest/", "http://printer.local/", "http://intranet/", "http://db.internal:5432/",
])
def test_literal_and_local_hosts_are_refused_without_asking_dns(url):
    with pytest.raises(BlockedURL):
        check_url(url, _never)


@pytest.mark.parametrize("url", [
    "file:///etc/passwd", "ftp://public.example/x", "gopher://public.example:70/_", "javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>", "//public.example/x", "/etc/passwd", "public.example/x",
    "dict://public.example:11211/", "ws://public.example/",
])
def test_only_http_and_https_are_fetched(url):
    with pytest.raises(BlockedURL) as exc:
        check_url(url, _never)
    assert "http" in str(exc.value) or "host" in str(exc.value) or "valid" in str(exc.value)


def test_a_public_name_that_resolves_to_loopback_is_refused():
    calls = []
    with pytest.raises(BlockedURL) as exc:
        check_url("http://totally-public.example:8501/admin", resolver({"totally-public.example": ["127.0.0.1"]}, calls))
    assert "127.0.0.1" in str(exc.value)
    assert calls == [("totally-public.example", 8501)]


@pytest.mark.parametrize("answer", [
    [PUBLIC_IP, "127.0.0.1"],  # one bad record among good ones is enough to refuse
    ["::ffff:169.254.169.254"],
    ["fd00::5"],
    ["10.0.0.7", PUBLIC_IP],
])
def test_any_private_record_refuses_the_name(answer):
    with pytest.raises(BlockedURL):
        check_url("https://mixed.example/", resolver({"mixed.example": answer}))


def test_unresolvable_and_empty_answers_are_refusals_not_crashes():
    with pytest.raises(BlockedURL, match="cannot resolve"):
        check_url("https://nowhere.example/", resolver({}))
    with pytest.raises(BlockedURL, match="no address"):
        check_url("https://empty.example/", resolver({"empty.example": []}))


@pytest.mark.parametrize("url", [
    "http://public.example@127.0.0.1/",  # user info: the host is 127.0.0.1, not the name in front
    "http://user:pass@public.example/",
    "http://[::1/", "http://exa mple.com/", "http://public.example:99999/",
])
def test_confusing_or_malformed_urls_are_refused(url):
    with pytest.raises(BlockedURL):
        check_url(url, resolver({"public.example": [PUBLIC_IP]}))


def test_a_fragment_cannot_smuggle_another_host():
    # Parsers disagree on "#@"; ours and the HTTP client's agree that the host is 127.0.0.1.
    with pytest.raises(BlockedURL):
        check_url("http://127.0.0.1:8501#@public.example/", resolver({"public.example": [PUBLIC_IP]}))


def test_a_public_url_returns_its_checked_addresses():
    calls = []
    addresses = check_url("https://Public.Example./news?id=1", resolver({"public.example": [PUBLIC_IP, "2606:4700::1"]}, calls))
    assert addresses == [PUBLIC_IP, "2606:4700::1"]
    assert calls == [("public.example", 443)]
    assert check_url(f"http://{PUBLIC_IP}:8080/", _never) == [PUBLIC_IP]
