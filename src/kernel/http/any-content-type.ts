// The call-home API and the admin API read every body as JSON, whatever its Content-Type says (an
// installed program or a script that labels it wrongly still gets an answer). Fastify answers a header
// that is not a valid media type (`Content-Type:` with no value, `json`) 415 before any parser sees the
// body, which the call-home contract does not allow and the fast lane in front of Fastify never does.
// On those surfaces the header is dropped first, so the body is read as if none had been sent.

import type { FastifyInstance } from 'fastify';

/** Drops the request's Content-Type in this context, except where `keep` says the surface parses that type otherwise. */
export function readBodiesWhateverTheirType(app: FastifyInstance, keep: (type: string) => boolean = () => false): void {
  app.addHook('onRequest', (request, _reply, done) => {
    const type = request.headers['content-type'];
    if (type !== undefined && !keep(type)) delete request.headers['content-type'];
    done();
  });
}
