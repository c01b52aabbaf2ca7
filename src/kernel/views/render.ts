import { render } from 'preact-render-to-string';
import type { VNode } from 'preact';
import type { FastifyReply } from 'fastify';

/** Renders a page to HTML; Preact escapes every interpolated value, so user data cannot inject markup. */
export function renderPage(vnode: VNode): string {
  return '<!doctype html>' + render(vnode);
}

export function sendPage(reply: FastifyReply, vnode: VNode, status = 200): FastifyReply {
  return reply.code(status).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(renderPage(vnode));
}
