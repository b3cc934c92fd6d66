"""What holds a TCP port: the /proc parsers and the conflict decision, on recorded inputs."""

from __future__ import annotations

import pytest

from ansible_collections.owui.realtime.plugins.module_utils import tcp_listeners as tl

# Recorded from a little-endian Docker host: sshd on 0.0.0.0:22, a registry on 10.231.0.1:5000, an
# established connection, a docker-proxy on 127.0.0.1:3000.
TCP = """\
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1594 1 0000000084ca3f49 100 0 0 10 0
   1: 0100E70A:1388 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1493318 1 00000000cade403d 100 0 0 10 0
   2: 0100007F:0BB8 0100007F:D2F0 01 00000000:00000000 00:00000000 00000000     0        0 77 1 0000000000000000 20 4 30 10 -1
   3: 0100007F:0BB8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5150 1 0000000000000000 100 0 0 10 0
"""
# [::]:8080, [::1]:6379 and an IPv4-mapped 127.0.0.1:5432.
TCP6 = """\
  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 9001 1 0 100 0 0 10 0
   1: 00000000000000000000000001000000:18EB 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 9002 1 0 100 0 0 10 0
   2: 0000000000000000FFFF00000100007F:1538 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 9003 1 0 100 0 0 10 0
"""


def test_listening_ipv4_sockets_are_read_with_address_port_and_inode():
    assert tl.parse_proc_net_tcp(TCP, "little") == [
        {"address": "0.0.0.0", "port": 22, "inode": 1594},
        {"address": "10.231.0.1", "port": 5000, "inode": 1493318},
        {"address": "127.0.0.1", "port": 3000, "inode": 5150},
    ]


def test_listening_ipv6_sockets_are_read_and_mapped_addresses_become_ipv4():
    assert tl.parse_proc_net_tcp(TCP6, "little") == [
        {"address": "::", "port": 8080, "inode": 9001},
        {"address": "::1", "port": 6379, "inode": 9002},
        {"address": "127.0.0.1", "port": 5432, "inode": 9003},
    ]


def test_big_endian_hosts_print_the_address_in_network_order():
    assert tl.decode_address("7F000001", "big") == "127.0.0.1"
    assert tl.decode_address("0100007F", "little") == "127.0.0.1"


def test_garbled_lines_are_skipped():
    assert tl.parse_proc_net_tcp("header\n  0: XYZ:0016 0 0A a b c d e 12\n  1: short\n", "little") == []


@pytest.mark.parametrize(("cgroup", "expected"), [
    ("12:memory:/docker/" + "a" * 64 + "\n0::/\n", "a" * 64),
    ("0::/system.slice/docker-" + "b" * 64 + ".scope\n", "b" * 64),
    ("0::/user.slice/user-0.slice/session-3.scope\n", None),
])
def test_the_container_of_a_process_comes_from_its_cgroup(cgroup, expected):
    assert tl.container_id_from_cgroup(cgroup) == expected


def test_a_docker_proxy_names_where_it_forwards():
    cmdline = ["/usr/bin/docker-proxy", "-proto", "tcp", "-host-ip", "0.0.0.0", "-host-port", "3000",
               "-container-ip", "172.18.0.2", "-container-port", "8080"]
    assert tl.docker_proxy_target(cmdline) == "172.18.0.2:8080"
    assert tl.docker_proxy_target(["python3", "-m", "http.server"]) is None


@pytest.mark.parametrize(("wanted", "held", "conflict"), [
    ("127.0.0.1", "127.0.0.1", True),
    ("127.0.0.1", "0.0.0.0", True),
    ("0.0.0.0", "127.0.0.1", True),
    ("127.0.0.1", "127.0.0.2", False),
    ("10.0.0.5", "127.0.0.1", False),
    ("127.0.0.1", "::", True),        # a dual-stack IPv6 wildcard takes IPv4 too
    ("::", "10.0.0.5", True),
    ("127.0.0.1", "::1", False),
    ("::1", "::1", True),
    ("::1", "0.0.0.0", False),
    ("[::1]", "::", True),
])
def test_which_bind_addresses_conflict(wanted, held, conflict):
    assert tl.bindings_conflict(wanted, held) is conflict


def _container(name, ports, state="running", cid=None):
    return {"Id": cid or name * 8, "Names": [f"/{name}"], "State": state,
            "Ports": [{"IP": ip, "PrivatePort": private, "PublicPort": public, "Type": "tcp"} for ip, public, private in ports]}


PROXY = {"pid": 812, "comm": "docker-proxy", "container_id": None,
         "cmdline": ["/usr/bin/docker-proxy", "-host-ip", "0.0.0.0", "-host-port", "3000", "-container-ip", "172.18.0.2"]}


def test_a_container_publishing_the_port_is_named_once_not_also_as_its_docker_proxy():
    listeners = [{"address": "0.0.0.0", "port": 3000, "inode": 7}]
    result = tl.find_holders("127.0.0.1", 3000, listeners, {7: [PROXY]}, [_container("web", [("0.0.0.0", 3000, 80)])],
                             own_container="open-webui")
    assert not result["free"]
    assert [h["name"] for h in result["holders"]] == ["web"]
    assert result["summary"] == "container 'web' (publishes 0.0.0.0:3000)"
    assert result["remedy"] == "stop the container web (docker stop web)"


def test_the_deployments_own_container_does_not_hold_its_own_port():
    listeners = [{"address": "127.0.0.1", "port": 3000, "inode": 7}]
    proxy = {**PROXY, "cmdline": PROXY["cmdline"]}
    result = tl.find_holders("127.0.0.1", 3000, listeners, {7: [proxy]},
                             [_container("open-webui", [("127.0.0.1", 3000, 8080)])], own_container="open-webui")
    assert result["free"] and result["held_by_own_container"]
    assert result["holders"] == []


def test_a_host_process_is_named_with_its_pid():
    listeners = [{"address": "0.0.0.0", "port": 3000, "inode": 9}]
    procs = {9: [{"pid": 4242, "comm": "python3", "cmdline": ["python3", "-m", "http.server"], "container_id": None}]}
    result = tl.find_holders("127.0.0.1", 3000, listeners, procs, [], own_container="open-webui")
    assert result["summary"] == "process python3 (pid 4242) listening on 0.0.0.0:3000"
    assert result["remedy"] == "stop python3 (pid 4242)"


def test_a_process_in_a_host_network_container_names_the_container():
    cid = "c" * 64
    listeners = [{"address": "0.0.0.0", "port": 3000, "inode": 9}]
    procs = {9: [{"pid": 77, "comm": "node", "cmdline": ["node"], "container_id": cid}]}
    result = tl.find_holders("0.0.0.0", 3000, listeners, procs, [_container("dev", [], cid=cid)])
    assert "in container 'dev'" in result["summary"]
    assert result["remedy"] == "stop the container dev (docker stop dev)"


def test_a_socket_whose_process_cannot_be_read_is_still_reported():
    result = tl.find_holders("127.0.0.1", 3000, [{"address": "127.0.0.1", "port": 3000, "inode": 5}], {}, [])
    assert not result["free"]
    assert "cannot name" in result["summary"] and "as root" in result["summary"]


def test_holders_on_other_addresses_ports_or_stopped_containers_do_not_count():
    listeners = [{"address": "127.0.0.2", "port": 3000, "inode": 1}, {"address": "0.0.0.0", "port": 3001, "inode": 2}]
    procs = {1: [{"pid": 1, "comm": "a", "cmdline": [], "container_id": None}],
             2: [{"pid": 2, "comm": "b", "cmdline": [], "container_id": None}]}
    containers = [_container("other", [("10.0.0.5", 3000, 80)]), _container("stopped", [("0.0.0.0", 3000, 80)], "exited")]
    result = tl.find_holders("127.0.0.1", 3000, listeners, procs, containers)
    assert result == {"free": True, "held_by_own_container": False, "holders": [], "summary": "", "remedy": ""}


def test_workers_sharing_one_socket_are_one_holder_with_every_pid():
    listeners = [{"address": "0.0.0.0", "port": 8080, "inode": 3}]
    procs = {3: [{"pid": pid, "comm": "nginx", "cmdline": ["nginx"], "container_id": None} for pid in (10, 11, 12)]}
    result = tl.find_holders("127.0.0.1", 8080, listeners, procs, [])
    assert len(result["holders"]) == 1
    assert result["holders"][0]["pids"] == [10, 11, 12]
    assert result["summary"] == "process nginx (pids 10, 11, 12) listening on 0.0.0.0:8080"
    assert result["remedy"] == "stop nginx (pids 10, 11, 12)"
