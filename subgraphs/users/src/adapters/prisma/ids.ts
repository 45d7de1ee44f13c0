const UUID = /^[\da-f]{8}-[\da-f]{4}-[\da-f]{4}-[\da-f]{4}-[\da-f]{12}$/i;

/** Ids arrive from clients; anything that is not a UUID cannot exist here and must not reach a uuid column. */
export const isUuid = (id: string) => UUID.test(id);
