// What the octokit scripts share: the error of a request that must fail.

// The RequestError of `promise`, which must fail with an HTTP status.
export async function failure(promise) {
  try {
    await promise;
  } catch (e) {
    if (e.status === undefined) throw e;
    return e;
  }
  throw new Error("expected the request to fail");
}
