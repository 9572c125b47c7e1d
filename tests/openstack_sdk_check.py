"""Drives a Corral server through openstacksdk (Debian's python3-openstacksdk), as a Nova user
would: create and wait, stop, start, pause, unpause, suspend, resume, reboot, shelve, unshelve,
rescue, unrescue, resize and confirm, a refused pause, lock (a refused stop) and unlock, its
instance actions, usage, quota and limits, flavor and image lists, a volume
attached and detached (os-volume_attachments), an interface attached and detached
(os-interface), a cold and a live migration and an evacuation by the cloud's admin, delete and
wait. After each step it checks the server's status against Corral's own Nova view
(GET /v1/vms/{id}?views=nova, with the same Keystone token). Prints one line per step; exits
non-zero on the first mismatch. Run by tests/openstack_client_test.cc."""

import sys
import time

import openstack
import requests


def main():
    base = sys.argv[1]
    conn = openstack.connect(
        auth_url=base + "/identity/v3", username="demo", password="password-demo",
        project_name="demo", user_domain_name="Default", project_domain_name="Default",
        region_name="RegionOne", identity_api_version="3")

    def nova_view(server_id):
        r = requests.get(base + "/v1/vms/%s?views=nova" % server_id,
                         headers={"X-Auth-Token": conn.session.get_token()}, timeout=10)
        r.raise_for_status()
        return r.json()["views"]["nova"]

    def settled(server_id, status):
        for _ in range(500):
            view = nova_view(server_id)
            if view["task_state"] is None and view["status"] == status:
                return view
            time.sleep(0.02)
        raise SystemExit("server %s never settled in %s: %s" % (server_id, status, view))

    def check(step, server_id, status):
        view = settled(server_id, status)
        server = conn.compute.get_server(server_id)
        if server.status != view["status"] or server.vm_state != view["vm_state"]:
            raise SystemExit("%s: sdk says %s/%s, corral's nova view %s" %
                             (step, server.status, server.vm_state, view))
        print("%s %s %s" % (step, server.status, server.vm_state), flush=True)

    flavor = conn.compute.find_flavor("m1.nano", ignore_missing=False)
    image = conn.image.find_image("tiny", ignore_missing=False)
    server = conn.compute.create_server(name="sdk-1", image_id=image.id, flavor_id=flavor.id)
    server = conn.compute.wait_for_server(server, status="ACTIVE", wait=60)
    check("create", server.id, "ACTIVE")
    conn.compute.stop_server(server)
    check("stop", server.id, "SHUTOFF")
    conn.compute.start_server(server)
    check("start", server.id, "ACTIVE")
    conn.compute.pause_server(server)
    check("pause", server.id, "PAUSED")
    try:
        conn.compute.pause_server(server)
        raise SystemExit("a second pause was not refused")
    except openstack.exceptions.ConflictException as e:
        print("refused %s" % e.details, flush=True)
    conn.compute.unpause_server(server)
    check("unpause", server.id, "ACTIVE")
    conn.compute.suspend_server(server)
    check("suspend", server.id, "SUSPENDED")
    conn.compute.resume_server(server)
    check("resume", server.id, "ACTIVE")
    conn.compute.reboot_server(server, "HARD")
    check("reboot", server.id, "ACTIVE")
    conn.compute.shelve_server(server)
    check("shelve", server.id, "SHELVED_OFFLOADED")
    conn.compute.unshelve_server(server)
    check("unshelve", server.id, "ACTIVE")
    conn.compute.rescue_server(server)
    check("rescue", server.id, "RESCUE")
    conn.compute.unrescue_server(server)
    check("unrescue", server.id, "ACTIVE")
    micro = conn.compute.find_flavor("m1.micro", ignore_missing=False)
    conn.compute.resize_server(server, micro)
    check("resize", server.id, "VERIFY_RESIZE")
    conn.compute.confirm_server_resize(server)
    check("confirm", server.id, "ACTIVE")
    if conn.compute.get_server(server.id).flavor.original_name != "m1.micro":
        raise SystemExit("the resized server's flavor is not m1.micro")
    conn.compute.lock_server(server, locked_reason="sdk")
    try:
        conn.compute.stop_server(server)
        raise SystemExit("a locked server's stop was not refused")
    except openstack.exceptions.ConflictException as e:
        print("locked %s" % e.details, flush=True)
    conn.compute.unlock_server(server)

    # What Nova reports beside the server: its actions, the project's usage, quotas, limits,
    # the flavors and images.
    # openstacksdk 0.101's server_actions() sends server_id as a query parameter and refuses
    # it itself (InvalidResourceQuery) before any request: ask through its session instead.
    listed = conn.compute.get("/servers/%s/os-instance-actions" % server.id).json()
    actions = {a["action"] for a in listed["instanceActions"]}
    for wanted in ("create", "stop", "pause", "resize", "confirmResize", "lock", "unlock"):
        if wanted not in actions:
            raise SystemExit("instance actions lack %s: %s" % (wanted, sorted(actions)))
    print("actions %d" % len(actions), flush=True)
    usage = conn.compute.get_usage(conn.current_project_id)
    if not usage.server_usages or usage.total_vcpus_usage <= 0:
        raise SystemExit("usage: %s" % usage)
    quota = conn.compute.get_quota_set(conn.current_project_id)
    limits = conn.compute.get_limits()
    if quota.instances != 10 or limits.absolute.instances != 10:
        raise SystemExit("quota %s, limits %s" % (quota.instances, limits.absolute.instances))
    print("usage quota limits ok", flush=True)
    if "m1.nano" not in {f.name for f in conn.compute.flavors()} or \
            "tiny" not in {i.name for i in conn.image.images()}:
        raise SystemExit("flavor or image list incomplete")

    # A Corral volume and network (made through v1 with the same token: there is no Cinder or
    # Neutron), attached and detached through Nova's os-volume_attachments and os-interface.
    headers = {"X-Auth-Token": conn.session.get_token()}

    def v1(method, path, body=None):
        r = requests.request(method, base + path, json=body, headers=headers, timeout=10)
        r.raise_for_status()
        return r.json()

    def until(what, predicate):
        for _ in range(500):
            value = predicate()
            if value:
                return value
            time.sleep(0.02)
        raise SystemExit("never: " + what)

    volume = str(v1("POST", "/v1/volumes", {"name": "sdk-data", "size_mib": 1})["volume"]["id"])
    # As a Cinder user waits for "available" before attaching (its file is being made).
    until("volume available",
          lambda: v1("GET", "/v1/volumes/sdk-data")["volume"]["status"] == "available")
    conn.compute.create_volume_attachment(server, volume_id=volume)
    attached = until("volume in-use", lambda: [
        v for v in v1("GET", "/v1/vms/%s?views=none" % server.id)["volumes"]
        if str(v["id"]) == volume and v["status"] == "in-use"])
    listed = [a for a in conn.compute.volume_attachments(server) if a.volume_id == volume]
    if len(listed) != 1 or listed[0].device != attached[0]["guest_device"]:
        raise SystemExit("volume attachments: %s, corral: %s" % (listed, attached))
    print("attach %s %s" % (volume, listed[0].device), flush=True)
    conn.compute.delete_volume_attachment(volume, server)
    until("volume detached",
          lambda: not v1("GET", "/v1/vms/%s?views=none" % server.id)["volumes"])
    if list(conn.compute.volume_attachments(server)):
        raise SystemExit("a detached volume is still listed")
    print("detach gone", flush=True)

    network = v1("POST", "/v1/networks", {"name": "sdk-net", "cidr": "10.91.0.0/24"})["network"]
    until("network READY",
          lambda: v1("GET", "/v1/networks/sdk-net")["network"]["state"] == "READY")
    conn.compute.create_server_interface(server, net_id=str(network["id"]))
    nics = until("interface attached",
                 lambda: v1("GET", "/v1/vms/%s?views=none" % server.id)["nics"])
    ports = list(conn.compute.server_interfaces(server))
    if len(ports) != 1 or ports[0].fixed_ips[0]["ip_address"] != nics[0]["ip"] or \
            ports[0].net_id != str(network["id"]):
        raise SystemExit("interfaces: %s, corral: %s" % (ports, nics))
    print("interface %s" % nics[0]["ip"], flush=True)
    conn.compute.delete_server_interface(ports[0].port_id, server=server)
    until("interface detached",
          lambda: not v1("GET", "/v1/vms/%s?views=none" % server.id)["nics"])
    print("interface gone", flush=True)

    # The cloud's admin moves it: cold, then live, each time to the other host.
    admin = openstack.connect(
        auth_url=base + "/identity/v3", username="ops", password="password-ops",
        project_name="admin", user_domain_name="Default", project_domain_name="Default",
        region_name="RegionOne", identity_api_version="3")

    def host():
        return v1("GET", "/v1/vms/%s?views=none" % server.id)["host"]

    for step, move in (("migrate", admin.compute.migrate_server),
                       ("live_migrate", admin.compute.live_migrate_server)):
        before = host()
        move(server.id)
        until(step + " done", lambda: host() != before and
              v1("GET", "/v1/vms/%s?views=nova" % server.id)["views"]["nova"]["task_state"]
              is None)
        check(step, server.id, "ACTIVE")

    # Evacuate: once its host is forced down (the operator fences it), the admin recreates it
    # on the other host.
    down = host()
    admin_headers = {"X-Auth-Token": admin.session.get_token()}

    def host_action(name, action):
        r = requests.post(base + "/v1/hosts/%s/action" % name, json={"action": action},
                          headers=admin_headers, timeout=10)
        r.raise_for_status()

    host_action(down, "force_down")
    admin.compute.evacuate_server(server.id)
    until("evacuated", lambda: host() not in (down, None) and
          v1("GET", "/v1/vms/%s?views=nova" % server.id)["views"]["nova"]["task_state"] is None)
    check("evacuate", server.id, "ACTIVE")
    host_action(down, "unforce_down")

    conn.compute.delete_server(server)
    conn.compute.wait_for_delete(server, wait=60)
    print("delete gone", flush=True)


if __name__ == "__main__":
    main()
