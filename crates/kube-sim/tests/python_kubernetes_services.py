"""The official Python `kubernetes` client drives kube-sim's Services and Endpoints.

Usage: python_kubernetes_services.py KUBECONFIG. Against the manifests of the services test
(`web`, slot blue, ready; `web-green`, slot green, never ready, in namespace prod): creates a
Service, watches its Endpoints fill with the ready pods, lists, patches the selector, replaces
with a stale resourceVersion (409) and with the current one, and deletes; prints SERVICES OK.
Any failed check raises.
"""

import sys

from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException

NS = "prod"


def check(cond, what):
    if not cond:
        raise AssertionError(what)
    print("ok:", what)


def ready_ips(ep):
    return sorted(a.ip for s in ep.subsets or [] for a in s.addresses or [])


def main():
    config.load_kube_config(config_file=sys.argv[1])
    core = client.CoreV1Api()

    svc = client.V1Service(
        metadata=client.V1ObjectMeta(name="front", labels={"team": "web"}),
        spec=client.V1ServiceSpec(
            selector={"app": "web", "slot": "blue"},
            ports=[client.V1ServicePort(port=80, target_port="http")],
        ),
    )
    created = core.create_namespaced_service(NS, svc)
    check(created.spec.cluster_ip.startswith("10.96."), "cluster IP allocated")
    check(created.spec.ports[0].protocol == "TCP", "port protocol defaulted")
    check(created.spec.type == "ClusterIP", "type defaulted")

    blue = core.list_namespaced_pod(NS, label_selector="slot=blue")
    want = sorted(p.status.pod_ip for p in blue.items if p.status.pod_ip)
    w = watch.Watch()
    seen = None
    for event in w.stream(
        core.list_namespaced_endpoints,
        NS,
        field_selector="metadata.name=front",
        timeout_seconds=30,
    ):
        seen = event["object"]
        if ready_ips(seen) == want and len(want) == 2:
            w.stop()
            break
    check(ready_ips(seen) == want, f"endpoints list the ready blue pods {want}")
    check(seen.subsets[0].ports[0].port == 8080, "named target port resolved")
    check(seen.metadata.labels == {"team": "web"}, "endpoints carry the service's labels")

    names = [s.metadata.name for s in core.list_namespaced_service(NS).items]
    check(names == ["front"], "service listed")
    by_label = core.list_service_for_all_namespaces(label_selector="team=web").items
    check([s.metadata.name for s in by_label] == ["front"], "listed by label across namespaces")

    stale = core.read_namespaced_service("front", NS)
    core.patch_namespaced_service(
        "front", NS, {"spec": {"selector": {"app": "web", "slot": "green"}}}
    )
    stale.spec.selector = {"app": "web", "slot": "blue", "x": "y"}
    try:
        core.replace_namespaced_service("front", NS, stale)
        raise AssertionError("a stale replace succeeded")
    except ApiException as e:
        check(e.status == 409, "stale replace is 409 Conflict")
    current = core.read_namespaced_service("front", NS)
    check(current.spec.selector == {"app": "web", "slot": "green"}, "selector switched")
    current.spec.selector = {"app": "web", "slot": "blue"}
    replaced = core.replace_namespaced_service("front", NS, current)
    check(replaced.spec.cluster_ip == created.spec.cluster_ip, "replace keeps the cluster IP")

    try:
        core.create_namespaced_service(
            NS,
            client.V1Service(
                metadata=client.V1ObjectMeta(name="noports"),
                spec=client.V1ServiceSpec(selector={"app": "web"}),
            ),
        )
        raise AssertionError("a service without ports was created")
    except ApiException as e:
        check(e.status == 422 and "spec.ports: Required value" in e.body, "ports required")

    core.delete_namespaced_service("front", NS)
    try:
        core.read_namespaced_endpoints("front", NS)
        raise AssertionError("endpoints outlived their service")
    except ApiException as e:
        check(e.status == 404, "endpoints deleted with the service")
    print("SERVICES OK")


if __name__ == "__main__":
    main()
