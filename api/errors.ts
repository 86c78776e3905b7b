/** An answer the API means to give: the status, a stable machine-readable code, and optionally the field at fault. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message?: string,
    readonly field?: string,
  ) {
    super(message ?? code);
    this.name = 'HttpError';
  }

  toJSON(): Record<string, string> {
    const body: Record<string, string> = { error: this.code };
    if (this.field) body.field = this.field;
    if (this.message !== this.code) body.message = this.message;
    return body;
  }
}

export const notFound = (code: string, message?: string) => new HttpError(404, code, message);

/** 422 naming the field, the same shape the schema validation produces. */
export const invalidField = (field: string, message: string) =>
  new HttpError(422, 'validation_failed', message, field);
