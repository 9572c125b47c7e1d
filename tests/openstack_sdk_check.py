"""Drives a Corral server through openstacksdk (Debian's python3-openstacksdk), as a Nova user
would: create and wait, stop, start, pause, unpause, suspend, resume, a refused pause, delete
and wait. After each step it checks the server's status against Corral's own Nova view
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
    conn.compute.delete_server(server)
    conn.compute.wait_for_delete(server, wait=60)
    print("delete gone", flush=True)


if __name__ == "__main__":
    main()
