// A row of the admin key store (the builtin provider) as the record the
// auth decision judges. The row comes from a database other programs may
// write too, so it is checked like any input: a status outside 0–3, an
// address list that does not parse or an unknown quota period is an error
// naming the field, and the key is then refused (never let in on a rule
// that could not be read).
#pragma once

#include "proxy/core/auth/key_record.h"
#include "proxy/core/util/parsed.h"
#include "proxy/stores/keys/key_store.h"

namespace llmproxy::modules::auth {

util::Parsed<llmproxy::auth::KeyRecord> record_from_stored(const stores::keys::StoredKey& row,
                                                          const llmproxy::auth::KeyHash& hash);

}  // namespace llmproxy::modules::auth
