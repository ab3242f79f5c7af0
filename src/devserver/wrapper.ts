/**
 * @module devserver/wrapper — Mega's `CommonResult<T>` envelope `{req_result, data, err_message}` and the
 * plain-text answers Mega gives outside the JSON API.
 */

export function ok<T>(data: T): Response {
  return Response.json({ req_result: true, data, err_message: "" });
}

export function fail(status: number, message: string): Response {
  return Response.json({ req_result: false, data: null, err_message: message }, { status });
}

/** What Mega's git catch-all answers for anything it does not route. */
export function notSupported(): Response {
  return new Response("Operation not supported", { status: 404, headers: { "content-type": "text/plain; charset=utf-8" } });
}
