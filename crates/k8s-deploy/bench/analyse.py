"""Reads the timestamped logs of run.sh and prints the detection latencies and resource use."""
import pathlib
import re
import sys

work = pathlib.Path(sys.argv[1])


def lines(name):
    for line in (work / name).read_text().splitlines():
        stamp, _, rest = line.partition(" ")
        yield float(stamp), rest


def first(name, predicate, after=0.0):
    return next((t for t, rest in lines(name) if t >= after and predicate(rest)), None)


def rolled_out(deployment, generation):
    def check(rest):
        fields = rest.split()
        return (
            len(fields) == 6
            and fields[0] == deployment
            and fields[1] == fields[2] == str(generation)
            and fields[3] == fields[4] == fields[5]
        )
    return check


def pod_of(deployment, states):
    pattern = re.compile(rf"^{deployment}-[a-z0-9]+-[a-z0-9]+\s+\S+\s+({'|'.join(states)})\s")
    return lambda rest: bool(pattern.match(rest))


def ms(a, b):
    return "n/a" if a is None or b is None else f"{(b - a) * 1000:.0f} ms"


def rss(phase):
    text = (work / f"time-{phase}.txt").read_text()
    return int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1)) / 1024


# Success: the last pod available (the Deployment's status says so) -> success reported.
available = first("deployments.log", rolled_out("web", 2))
action_ok = first("action-success.log", lambda r: r.startswith("Deployed "))
available_k = first("deployments.log", rolled_out("web-kubectl", 2))
kubectl_ok = first("kubectl-success.log", lambda r: "successfully rolled out" in r)
print(f"success detection  k8s-deploy: {ms(available, action_ok)}   kubectl rollout status: {ms(available_k, kubectl_ok)}")

# Failure: the first new pod in ErrImagePull / ImagePullBackOff -> rollback started / kubectl gives up.
start = max(action_ok or 0, kubectl_ok or 0)
for states in (["ErrImagePull"], ["ImagePullBackOff"]):
    pulled = first("pods.log", pod_of("web", states), start)
    pulled_k = first("pods.log", pod_of("web-kubectl", states), start)
    rollback = first("action-failure.log", lambda r: r.startswith("Rolling back"))
    deadline = first("kubectl-failure.log", lambda r: r.startswith("exit ") and r != "exit 0")
    print(
        f"failure detection from first {states[0]}  k8s-deploy (to rollback start): {ms(pulled, rollback)}"
        f"   kubectl rollout status (to its error): {ms(pulled_k, deadline)}"
    )
patched = first("action-failure.log", lambda r: r.startswith("Patched "))
rollback = first("action-failure.log", lambda r: r.startswith("Rolling back"))
print(f"failure detection from the patch  k8s-deploy: {ms(patched, rollback)}")
gave_up = "exceeded its progress deadline" in (work / "kubectl-requests-failure.log").read_text()
print(f"kubectl rollout status ended with 'exceeded its progress deadline': {gave_up}")
print(f"peak RSS  success run: {rss('success'):.1f} MiB   failure run (incl. rollback): {rss('failure'):.1f} MiB")
log = (work / "kubectl-requests-success.log").read_text()
requests = re.findall(r'verb="(?:GET|PATCH|PUT|POST)"|\] (?:GET|PATCH|PUT|POST) http', log)
discovery = len(re.findall(r'url="[^"]*/(?:api|apis)(?:\?[^"]*)?"', log))
print(f"API requests of kubectl set image + rollout status (success): {len(requests)} ({discovery} of them discovery)")
