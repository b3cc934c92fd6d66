#!/usr/bin/python
# Copyright (c) owui.realtime contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: websocket_check
short_description: Prove that Open WebUI's websockets go through Valkey
version_added: 0.1.0
description:
  - Runs on the Docker host and checks, from several independent sides, that Open WebUI uses
    Valkey (or Redis) as its Socket.IO websocket manager. It never changes anything.
  - C(ping) - Valkey answers C(PING) with C(PONG) using the configured credentials. Without
    O(valkey_url), the module runs C(valkey-cli) (or C(redis-cli)) inside O(valkey_container)
    through the Docker API, so Valkey's port need not be published; the password reaches
    C(valkey-cli) only as the E(REDISCLI_AUTH) environment variable of that exec, never on a
    command line. With O(valkey_url), it connects with redis-py instead. Either speaks TLS when
    O(valkey_tls) says so, or by default the way Open WebUI does (see O(valkey_tls)).
  - C(open_webui) - every container in O(open_webui_containers) exists and runs, and its
    environment (C(docker inspect) Config.Env) has E(WEBSOCKET_MANAGER=redis), websocket support
    enabled, and a E(WEBSOCKET_REDIS_URL) whose host is not a loopback address; its log since the
    current start does not show Open WebUI falling back to in-memory websocket state. With
    O(valkey_container) (not O(valkey_url)), the host of E(WEBSOCKET_REDIS_URL) is resolved inside
    each running container (C(getent ahosts)); when it leads to another container on its networks
    and not to O(valkey_container), the check fails at once with cause C(other_valkey) naming both,
    and with C(redis_host_unresolved) when it does not resolve there at all. This check
    counts whenever O(require) contains C(valkey_side), C(websocket) or C(log_line).
  - C(websocket) - a Socket.IO handshake over the websocket transport (no HTTP long-polling)
    to C(/ws/socket.io) succeeds at O(open_webui_url), at each URL in O(open_webui_urls) and at the
    published port of each Open WebUI container. It fails when Open WebUI runs with
    E(ENABLE_WEBSOCKET_SUPPORT=false).
  - C(delivery) - an event put on Valkey reaches a websocket client on every replica. A
    replica is each container in O(open_webui_containers) and each URL in O(open_webui_urls).
    One Socket.IO client (websocket transport) connects straight to each replica - a container at
    its published O(open_webui_port), else at its address on its Docker network, and a lone
    container at O(open_webui_url) when it has neither. For each client, one emit addressed to
    the client's namespace sid, carrying a random nonce, is published on Valkey's C(socketio)
    channel in python-socketio's pub/sub format (JSON, with a C(host_id) no replica has), the
    same way Valkey was reached for C(ping). Each client must receive its nonce within
    O(delivery_timeout) seconds; a replica whose Socket.IO server does not listen on this Valkey
    (no E(WEBSOCKET_MANAGER=redis), another Valkey) never delivers, and the cause names it.
    Afterwards C(PUBSUB NUMSUB socketio) must count at least one subscriber per Uvicorn worker
    of all replicas - E(UVICORN_WORKERS) from each container's environment, O(open_webui_workers)
    for each URL. The evidence has each replica's latency. Runs, and is required, when
    O(delivery) is true, or by default when there is more than one replica. Only the check's own
    client receives the event.
  - C(valkey_side) - in Valkey, C(PUBSUB NUMSUB socketio) counts at least one subscriber per Open
    WebUI container, C(CLIENT LIST) has connections from each Open WebUI container's address, one
    of them a pub/sub subscriber, and keys exist under O(key_prefix)C(:) in O(valkey_db). When there are none there but some in
    another db, the module says the check points at another db than Open WebUI uses.
  - C(log_line) - the guide's proof line C(Using Redis to manage websockets.) was printed since
    the container's B(current) start (a line from an earlier start does not count), in plain,
    loguru or JSON log format. Open WebUI 0.12.4 does not print it, so it is not required
    by default; it is reported either way.
  - Runs the checks in that order, because python-socketio may subscribe to the C(socketio)
    channel only after its first Socket.IO client connected (C(delivery) after C(websocket)), and repeats
    them every O(interval) seconds until
    the required ones pass, until one fails for a reason waiting cannot change (wrong password,
    wrong environment, stopped container ...), or until O(wait_timeout) runs out.
  - Every failure comes with named causes (for example C(wrongpass), C(protected_mode),
    C(tls_mismatch), C(tls_certificate), C(manager_not_redis), C(loopback_url),
    C(in_memory_fallback), C(other_db), C(other_valkey), C(not_delivered)), each with what was seen
    and the fix.
  - Passwords never appear in the result; URL passwords are printed as C(********).
extends_documentation_fragment:
  - owui.realtime.docker_api
  - owui.realtime.read_only
options:
  valkey_container:
    description:
      - Name of the Valkey container, used when O(valkey_url) is not given.
    type: str
    default: redis-valkey
  valkey_port:
    description:
      - Port valkey-server listens on inside O(valkey_container).
      - Defaults to the port in the Open WebUI containers' E(WEBSOCKET_REDIS_URL), else C(6379).
    type: int
  valkey_url:
    description:
      - Connect to Valkey with redis-py at this C(redis://) or C(rediss://) URL instead of running
        C(valkey-cli) in O(valkey_container). Use it when Valkey is not a container on this host.
      - A user name and password in the URL are used unless O(valkey_username) or
        O(valkey_password) are given; the password is masked in all output.
      - The db in the URL is ignored; O(valkey_db) decides.
    type: str
  valkey_tls:
    description:
      - Speak TLS to Valkey - C(valkey-cli --tls) in O(valkey_container), or redis-py with
        C(ssl=True) to O(valkey_url).
      - When not given, with O(valkey_url) its scheme decides (C(rediss://) is TLS). Without
        O(valkey_url), the check speaks to Valkey the way Open WebUI does - TLS when the
        E(WEBSOCKET_REDIS_URL) of the first container in O(open_webui_containers) that has one is
        C(rediss://), else plaintext.
      - The C(ping) check's evidence and RV(valkey) say whether TLS was used (C(tls)) and why
        (C(tls_from) - V(given), V(valkey_url), V(WEBSOCKET_REDIS_URL of '<container>') or
        V(default off)).
      - A plaintext client against a TLS-only Valkey (C(port 0), C(tls-port)), or a TLS client
        against a plaintext one, fails with cause C(tls_mismatch).
      - Not to be confused with O(tls), which is about the connection to the Docker API.
    type: bool
  valkey_tls_ca_cert:
    description:
      - The CA certificate (PEM) that signed Valkey's certificate; used only with TLS.
      - With O(valkey_container), a path B(inside that container), passed as
        C(valkey-cli --tls --cacert); for example the file valkey.conf names in
        C(tls-ca-cert-file), such as V(/etc/valkey/tls/ca.crt). valkey-cli checks the CA, not the
        host name.
      - With O(valkey_url), a file on the host that runs the module, given to redis-py as
        C(ssl_ca_certs); when not given, an C(ssl_ca_certs) query parameter in O(valkey_url) is
        used. redis-py also checks that the certificate names the host of O(valkey_url).
      - The C(ssl_ca_certs) in Open WebUI's E(WEBSOCKET_REDIS_URL) is a path in Open WebUI's
        container and is never used here.
      - Without a CA, valkey-cli and redis-py trust the system's CA store, so a certificate
        issued by a private CA fails with cause C(tls_certificate).
      - Not to be confused with O(ca_path), the CA of the Docker API's TLS.
    type: str
  valkey_username:
    description:
      - ACL user name for Valkey.
      - When neither O(valkey_username) nor O(valkey_password) is given and O(valkey_url) is not
        set, the module uses the credentials in the first Open WebUI container's
        E(WEBSOCKET_REDIS_URL), and says so in RV(valkey.credentials).
    type: str
  valkey_password:
    description:
      - Password for Valkey (requirepass, or the ACL user's password).
    type: str
  valkey_db:
    description:
      - Database number Open WebUI uses, the path of E(WEBSOCKET_REDIS_URL) (V(1) in
        C(redis://redis:6379/1)).
      - A different db in the container's E(WEBSOCKET_REDIS_URL) fails the C(valkey_side) check
        with cause C(db_mismatch).
    type: int
    default: 1
  open_webui_containers:
    description:
      - Names of the Open WebUI containers that must use Valkey.
    type: list
    elements: str
    default: [open-webui]
  open_webui_url:
    description:
      - URL at which clients reach Open WebUI, for example V(http://127.0.0.1:3000); the
        handshake goes to its C(/ws/socket.io) path.
      - Each Open WebUI container whose O(open_webui_port) is published on the host is
        handshaken as well, at that published port.
      - Without it and without published ports the C(websocket) check is skipped with a
        reason, or fails when O(require) contains C(websocket).
    type: str
  open_webui_port:
    description:
      - Port Open WebUI listens on inside its container, used to find its published port, and
        for the C(delivery) check the port at the container's own address when none is published.
    type: int
    default: 8080
  open_webui_urls:
    description:
      - URLs of Open WebUI replicas that are not containers on this Docker host, for example
        V(http://10.0.0.12:3000); each must reach that one replica directly (not a load balancer),
        from the host that runs the module. The C(websocket) and C(delivery) checks go to each
        URL's C(/ws/socket.io) path.
      - List each replica once, either here or in O(open_webui_containers); to check only replicas
        on other hosts, set O(open_webui_containers) to V([]).
      - The C(open_webui), C(valkey_side) and C(log_line) checks read containers only.
    type: list
    elements: str
    default: []
  open_webui_workers:
    description:
      - Uvicorn workers (E(UVICORN_WORKERS)) of each replica in O(open_webui_urls); every worker
        subscribes to C(socketio) on its own. A container's own E(UVICORN_WORKERS) is read from
        its environment.
    type: int
    default: 1
  delivery:
    description:
      - Run the C(delivery) check, and require it, V(true); or skip it, V(false).
      - When not given, it runs when O(open_webui_containers) and O(open_webui_urls) together name
        more than one replica.
    type: bool
  delivery_timeout:
    description:
      - Seconds each client may take to receive its nonce, counted from the first publish, in each
        round. A nonce that does not come fails the round; rounds repeat within O(wait_timeout).
    type: int
    default: 5
  key_prefix:
    description:
      - Prefix of Open WebUI's keys in Valkey (its E(REDIS_KEY_PREFIX)); keys look like
        C(open-webui:session_pool).
    type: str
    default: open-webui
  require:
    description:
      - Checks that must pass; the others are still run and reported.
    type: list
    elements: str
    choices: [ping, valkey_side, websocket, log_line]
    default: [ping, valkey_side, websocket]
  wait_timeout:
    description:
      - How many seconds to keep repeating the checks while they fail for a reason that may clear
        (Open WebUI still starting, no subscriber yet).
      - Named C(wait_timeout) because O(timeout) is the Docker API timeout.
    type: int
    default: 60
  interval:
    description:
      - Seconds between two rounds of checks.
    type: int
    default: 2
requirements:
  - python-socketio (5.x) and websocket-client on the Docker host, for the C(websocket) and
    C(delivery) checks.
  - redis (redis-py) on the Docker host, only when O(valkey_url) is given.
  - C(valkey-cli) or C(redis-cli) in O(valkey_container), when O(valkey_url) is not given; built
    with TLS support when O(valkey_tls) is on.
  - C(getent) in the Open WebUI containers, for C(other_valkey); without it that comparison is
    left out.
notes:
  - The guide's proof, the log line C(DEBUG:open_webui.socket.main:Using Redis to manage websockets.),
    is not printed by current Open WebUI even with E(GLOBAL_LOG_LEVEL=DEBUG), and a line left in the
    log by an earlier start proves nothing; the Valkey-side evidence is what this module relies on.
  - With TLS, C(valkey-cli) runs under the container's C(timeout) command (coreutils or busybox),
    because a TLS client waits forever for the hello of a Valkey that speaks plaintext; in an image
    without C(timeout) it runs without, and such a hang lasts until the Docker API O(timeout).
seealso:
  - module: community.docker.docker_container_exec
  - name: Open WebUI Redis websocket support
    description: The guide this collection automates.
    link: https://docs.openwebui.com/tutorials/integrations/redis
author:
  - owui.realtime maintainers (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Prove that Open WebUI's websockets go through Valkey
  owui.realtime.websocket_check:
    valkey_container: redis-valkey
    valkey_password: "{{ valkey_password }}"
    valkey_db: 1
    open_webui_containers: [open-webui]
    open_webui_url: http://127.0.0.1:3000

- name: Two Open WebUI instances behind one URL, Valkey with an ACL user
  owui.realtime.websocket_check:
    valkey_username: open-webui
    valkey_password: "{{ valkey_password }}"
    open_webui_containers: [open-webui-1, open-webui-2]
    open_webui_url: https://chat.example.com
  register: __websocket_check

- name: Two replicas on this host - delivery runs by default with more than one
  owui.realtime.websocket_check:
    valkey_container: redis-valkey
    open_webui_containers: [open-webui-1, open-webui-2]
  register: __websocket_check

- name: Replicas on other hosts, checked from the Valkey host, each at its own address
  owui.realtime.websocket_check:
    valkey_container: redis-valkey
    valkey_password: "{{ valkey_password }}"
    open_webui_containers: []
    open_webui_urls:
      - http://10.0.0.12:3000
      - http://10.0.0.13:3000
    open_webui_workers: 2

- name: One container, delivery forced on
  owui.realtime.websocket_check:
    open_webui_url: http://127.0.0.1:3000
    delivery: true

- name: Also insist on the guide's log line (older Open WebUI releases print it)
  owui.realtime.websocket_check:
    open_webui_url: http://127.0.0.1:3000
    require: [ping, valkey_side, websocket, log_line]

- name: Valkey with TLS only; its CA certificate is mounted in the Valkey container
  owui.realtime.websocket_check:
    valkey_container: redis-valkey
    valkey_password: "{{ valkey_password }}"
    valkey_tls: true
    valkey_tls_ca_cert: /etc/valkey/tls/ca.crt
    open_webui_url: http://127.0.0.1:3000

- name: Valkey elsewhere, reached with redis-py over TLS (CA file on the host running the module)
  owui.realtime.websocket_check:
    valkey_url: "rediss://open-webui@valkey.internal:6380?ssl_ca_certs=/etc/ssl/private-ca/valkey-ca.crt"
    valkey_password: "{{ valkey_password }}"
    open_webui_url: http://127.0.0.1:3000

- name: Show what failed and what to do
  ansible.builtin.debug:
    msg: "{{ item.message }} -> {{ item.fix }}"
  loop: "{{ __websocket_check.causes | default([]) }}"
"""

RETURN = r"""
msg:
  description: One line; on success the evidence, on failure the first causes.
  returned: always
  type: str
  sample: "Open WebUI uses Valkey for websockets: PONG; 1/1 subscribed to socketio (1 subscribers in all); 1/1 clients
    connected; 2 keys under open-webui: in db 1; websocket handshake ok"
checks:
  description:
    - One entry per check, C(ping), C(open_webui), C(websocket), C(delivery), C(valkey_side) and
      C(log_line), from the last round.
  returned: always
  type: dict
  contains:
    status:
      description: C(ok), C(failed) or C(skipped).
      type: str
      sample: ok
    required:
      description: Whether this check decides RV(ignore:failed).
      type: bool
    detail:
      description: What the check saw, in one line.
      type: str
      sample: "1/1 subscribed to socketio (1 subscribers in all); 1/1 clients connected; 2 keys under open-webui: in db 1"
    evidence:
      description:
        - Raw findings. C(ping) - C(reply), C(via), C(credentials), C(tls), C(tls_from),
          C(tls_ca_cert) (see RV(valkey)). C(open_webui) - per container
          its state, addresses, published URL and websocket settings (URL password masked), and
          C(valkey_host) - what the URL's host resolved to in the container (C(addresses),
          C(unresolved) or C(unknown)).
          C(websocket) - per URL C(ok), C(sid), C(transport) or C(error). C(delivery) - C(channel),
          C(event), C(bound) (seconds), C(subscribers) and C(expected_workers), and C(replicas),
          per container name or URL - C(url), C(via), C(workers), and either C(error), or C(sid),
          C(nonce), C(published_to) (subscribers that got the PUBLISH), C(publish_ms) and
          C(latency_ms) (from the start of the PUBLISH to the client's receipt; V(null) when it
          never came). C(valkey_side) -
          C(subscribers), C(expected_subscribers), C(clients) per container (C(addr), C(db), C(cmd),
          C(subscriber)), C(keys),
          C(keys_in_other_dbs). C(log_line) - per container C(found), C(line), C(since),
          C(lines_scanned), C(older_lines_ignored), C(fallback), C(valkey_errors).
      type: dict
    causes:
      description: Named causes of this check's failure, see RV(causes).
      type: list
      elements: dict
    duration:
      description: Seconds the check took in the last round.
      type: float
causes:
  description:
    - Named causes of the failing required checks, the likeliest first; empty on success.
    - Checks that were not required keep theirs in RV(checks).
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description:
        - Stable name, one of C(valkey_container_missing), C(valkey_container_not_running),
          C(no_cli), C(protected_mode), C(noauth), C(wrongpass), C(auth_not_configured), C(noperm),
          C(misconf), C(loading), C(readonly), C(max_clients), C(name_resolution),
          C(tls_mismatch), C(tls_certificate), C(tls_ca_unreadable),
          C(connection_refused), C(valkey_timeout), C(valkey_error), C(container_missing),
          C(container_not_running), C(manager_not_redis), C(redis_url_missing),
          C(redis_url_invalid), C(loopback_url), C(websocket_disabled), C(db_mismatch),
          C(prefix_mismatch), C(other_valkey), C(redis_host_unresolved), C(in_memory_fallback),
          C(handshake_failed), C(no_websocket_url), C(delivery_unreachable), C(not_delivered),
          C(workers_not_subscribed), C(not_subscribed),
          C(container_not_subscribed),
          C(no_client_connection), C(no_keys), C(other_db), C(log_line_missing),
          C(valkey_errors_in_log).
      type: str
      sample: wrongpass
    check:
      description: The check the cause belongs to.
      type: str
      sample: ping
    message:
      description: What was seen.
      type: str
      sample: "Valkey rejected the user name or password (WRONGPASS): AUTH failed: WRONGPASS invalid username-password pair or user is disabled."
    fix:
      description: What to do about it.
      type: str
valkey:
  description: How Valkey was reached.
  returned: always
  type: dict
  contains:
    via:
      description:
        - C(valkey-cli in container ...) or C(redis-py to <masked URL>), with TLS and the CA used
          when TLS is on.
      type: str
      sample: "valkey-cli in container 'redis-valkey' (docker exec, port 6379, TLS, CA /etc/valkey/tls/ca.crt)"
    tls:
      description: Whether the check spoke TLS to Valkey.
      type: bool
    tls_from:
      description:
        - Why - V(given) (O(valkey_tls)), V(valkey_url) (its scheme),
          V(WEBSOCKET_REDIS_URL of '<container>') (the way that Open WebUI container reaches
          Valkey) or V(default off).
      type: str
      sample: "WEBSOCKET_REDIS_URL of 'open-webui'"
    tls_ca_cert:
      description:
        - The CA certificate used with TLS (in the Valkey container, or on this host with
          O(valkey_url)); V(null) for the system trust store or without TLS.
      type: str
    credentials:
      description: C(given), C(none), C(valkey_url) or C(WEBSOCKET_REDIS_URL of '<container>').
      type: str
    db:
      description: The db the key check read.
      type: int
attempts:
  description: Rounds of checks run.
  returned: always
  type: int
  sample: 1
elapsed:
  description: Seconds spent in all rounds.
  returned: always
  type: float
  sample: 0.9
"""

import traceback

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.owui.realtime.plugins.module_utils import (
    socketio_listener,
    socketio_probe,
    valkey_probe,
    valkey_target,
)
from ansible_collections.owui.realtime.plugins.module_utils.check_settings import (
    ARGUMENT_SPEC,
    settings_from,
)
from ansible_collections.owui.realtime.plugins.module_utils.docker_client import (
    AnsibleDockerClient,
    DockerException,
    LogNotReadable,
    RequestException,
)
from ansible_collections.owui.realtime.plugins.module_utils.docker_probe import (
    container_log,
    exec_in,
    inspect_container,
    inspect_network,
)
from ansible_collections.owui.realtime.plugins.module_utils.websocket_runner import (
    Probes,
    run,
)


def main() -> None:
    client = AnsibleDockerClient(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    module = client.module
    params = module.params

    try:
        settings = settings_from(params)
    except ValueError as exc:
        module.fail_json(msg=f"valkey_url cannot be used: {exc}; expected redis://[user:password@]host:port or rediss://...")
    if settings.valkey_url_parts:
        if settings.valkey_url_parts["password"]:
            module.no_log_values.add(settings.valkey_url_parts["password"])
        if valkey_probe.REDIS_IMPORT_ERROR:
            module.fail_json(msg=missing_required_lib("redis", reason="to reach Valkey at valkey_url"),
                             exception=valkey_probe.REDIS_IMPORT_ERROR)
    if settings.valkey_db < 0 or settings.wait_timeout < 0 or settings.interval < 1:
        module.fail_json(msg="valkey_db and wait_timeout must be 0 or more, interval 1 or more")
    if not (settings.open_webui_containers or settings.open_webui_urls) and set(settings.require) - {"ping"}:
        module.fail_json(msg="open_webui_containers and open_webui_urls are empty, so there is nothing to prove for "
                             f"require={settings.require}; name the Open WebUI containers or replicas' URLs, or "
                             "require only ping")
    if settings.delivery_timeout < 1 or settings.open_webui_workers < 1:
        module.fail_json(msg="delivery_timeout and open_webui_workers must be 1 or more")

    def need_socketio(reason: str) -> None:
        # Needed only when there is somewhere to open a websocket to.
        if socketio_probe.SOCKETIO_IMPORT_ERROR:
            module.fail_json(msg=missing_required_lib("python-socketio", reason=reason),
                             exception=socketio_probe.SOCKETIO_IMPORT_ERROR)
        if socketio_probe.WEBSOCKET_CLIENT_IMPORT_ERROR:
            module.fail_json(msg=missing_required_lib("websocket-client", reason=reason),
                             exception=socketio_probe.WEBSOCKET_CLIENT_IMPORT_ERROR)

    def handshake(url: str, timeout: float) -> dict:
        need_socketio("for the websocket handshake")
        return socketio_probe.handshake(url, timeout)

    def listen(url: str, event: str, timeout: float) -> socketio_listener.Listener:
        need_socketio("for the delivery check")
        return socketio_listener.Listener(url, event, timeout)

    def logs(inspect: dict, since: str | None) -> str:
        try:
            return container_log(client, inspect, since)
        except LogNotReadable as exc:
            module.warn(f"The log_line check read no log: {exc}")
            return ""

    probes = Probes(
        inspect=lambda name: inspect_container(client, name),
        logs=logs,
        exec_run=lambda container, argv, env: exec_in(client, container, argv, env),
        handshake=handshake,
        make_redis=valkey_probe.ValkeyViaRedisPy,
        register_secret=module.no_log_values.add,
        listen=listen,
        resolve=lambda container, host: valkey_target.resolve_in(
            lambda name, argv, env: exec_in(client, name, argv, env), container, host),
        inspect_network=lambda name: inspect_network(client, name),
    )
    try:
        result = run(settings, probes)
    except (DockerException, RequestException) as exc:
        module.fail_json(msg=f"The Docker engine did not answer as expected: {exc}; is it running and reachable "
                             "with the docker_host given?", exception=traceback.format_exc())

    failed = result.pop("failed")
    if failed:
        module.fail_json(changed=False, **result)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
