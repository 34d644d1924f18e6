"""The official Python `kubernetes` client drives kube-sim's core flows.

Usage: python_kubernetes_flow.py KUBECONFIG. Creates a namespace and a Deployment, watches the
rollout, lists and reads Deployments, patches the image, lists Pods, reads a Pod's logs and checks
the client's errors; prints ALL FLOWS OK at the end. Any failed check raises.
"""

import sys

from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException

NS = "py"


def check(cond, what):
    if not cond:
        raise AssertionError(what)
    print("ok:", what)


def rolled_out(d):
    s = d.status
    want = d.spec.replicas
    return (
        (s.observed_generation or 0) >= d.metadata.generation
        and (s.updated_replicas or 0) == want
        and (s.replicas or 0) == want
        and (s.available_replicas or 0) == want
    )


def wait_rolled_out(apps, name):
    w = watch.Watch()
    for event in w.stream(
        apps.list_namespaced_deployment,
        NS,
        field_selector=f"metadata.name={name}",
        timeout_seconds=30,
    ):
        if event["type"] in ("ADDED", "MODIFIED") and rolled_out(event["object"]):
            w.stop()
            return event["object"]
    raise AssertionError(f"deployment {name} did not roll out within 30 s")


def main():
    config.load_kube_config(config_file=sys.argv[1])
    apps = client.AppsV1Api()
    core = client.CoreV1Api()

    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=NS)))
    check(NS in [n.metadata.name for n in core.list_namespace().items], "namespace created")

    body = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "api", "labels": {"app": "api"}},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "api"}},
            "template": {
                "metadata": {"labels": {"app": "api"}},
                "spec": {"containers": [{"name": "app", "image": "registry.example/app:1.0"}]},
            },
        },
    }
    created = apps.create_namespaced_deployment(NS, body)
    check(created.metadata.generation == 1, "deployment created with generation 1")
    wait_rolled_out(apps, "api")

    listed = apps.list_namespaced_deployment(NS)
    check([d.metadata.name for d in listed.items] == ["api"], "deployments listed")
    everywhere = apps.list_deployment_for_all_namespaces()
    check({"api", "web"} <= {d.metadata.name for d in everywhere.items}, "listed across namespaces")

    patch = {"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "registry.example/app:1.1"}]}}}}
    patched = apps.patch_namespaced_deployment("api", NS, patch)
    check(patched.metadata.generation == 2, "patch bumps the generation")
    done = wait_rolled_out(apps, "api")
    check(done.metadata.annotations["deployment.kubernetes.io/revision"] == "2", "revision 2")
    read = apps.read_namespaced_deployment("api", NS)
    check(read.spec.template.spec.containers[0].image == "registry.example/app:1.1", "read back")

    pods = core.list_namespaced_pod(NS, label_selector="app=api").items
    live = [p for p in pods if p.metadata.deletion_timestamp is None]
    check(len(live) == 2, "two live pods")
    check(all(p.spec.containers[0].image == "registry.example/app:1.1" for p in live), "pods run 1.1")
    log = core.read_namespaced_pod_log(live[0].metadata.name, NS)
    check(log == "listening on :8080\n", f"pod log read: {log!r}")

    try:
        apps.read_namespaced_deployment("ghost", NS)
        raise AssertionError("reading a missing deployment succeeded")
    except ApiException as e:
        check(e.status == 404, "missing deployment is 404")
    body["metadata"]["name"] = "bad"
    body["spec"]["template"]["spec"]["containers"][0]["name"] = "App_1"
    try:
        apps.create_namespaced_deployment(NS, body)
        raise AssertionError("an invalid container name was accepted")
    except ApiException as e:
        check(e.status == 422, "invalid container name is 422")

    apps.delete_namespaced_deployment("api", NS)
    check(apps.list_namespaced_deployment(NS).items == [], "deployment deleted")
    print("ALL FLOWS OK")


if __name__ == "__main__":
    main()
