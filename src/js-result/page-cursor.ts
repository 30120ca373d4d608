import { createHmac, timingSafeEqual } from 'node:crypto';
import { invalidParams } from '../common/domain.error';
import type { RowKey } from './row-key';

const VERSION = 'p1';
const POSITION = /^(-?\d{1,20})?:(-?\d{1,20})$/;

const refused = () =>
  invalidParams('cursor: not a cursor of this walk (modified, or issued for another token or other conditions); start again without one');

/**
 * The opaque `next_cursor` of js-result_page: where the walk stands, signed
 * with the database's key and bound to the token and the conditions it was
 * issued for. The signature covers the exact text of the position, so any
 * change to any byte is refused; it is compared in constant time.
 *
 * `<version>.<base64url of "start_time:id">.<base64url HMAC-SHA256>`
 */
export class PageCursors {
  constructor(private readonly key: string) {}

  issue(position: RowKey, binding: string): string {
    const body = `${VERSION}.${Buffer.from(`${position.startTime ?? ''}:${position.id}`).toString('base64url')}`;
    return `${body}.${this.sign(body, binding)}`;
  }

  /** The position a cursor holds, or -32602 when it is not one this walk issued. */
  read(cursor: string, binding: string): RowKey {
    const dot = cursor.lastIndexOf('.');
    if (dot < 0) throw refused();
    const body = cursor.slice(0, dot);
    const given = Buffer.from(cursor.slice(dot + 1));
    const expected = Buffer.from(this.sign(body, binding));
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw refused();
    const [version, encoded] = body.split('.');
    const position = version === VERSION ? POSITION.exec(Buffer.from(encoded ?? '', 'base64url').toString()) : null;
    if (position === null) throw refused();
    return { startTime: position[1] ?? null, id: position[2] };
  }

  private sign(body: string, binding: string): string {
    return createHmac('sha256', this.key).update(body).update('\n').update(binding).digest('base64url');
  }
}

/** What a cursor is bound to: the caller's token and the walk's conditions exactly as sent. */
export const cursorBinding = (tokenKey: string, conditionsText: string) => `${tokenKey}\n${conditionsText}`;
