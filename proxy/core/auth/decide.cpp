#include "proxy/core/auth/key_record.h"

namespace llmproxy::auth {

using openai::ErrorId;

Decision decide(const KeyRecord& key, const std::optional<util::IpAddress>& client_ip, WallTime now,
                std::int64_t pending) {
  switch (key.status) {
    case KeyStatus::active:
      break;
    case KeyStatus::disabled:
      return Decision::deny(ErrorId::key_disabled);
    case KeyStatus::expired:
      return Decision::deny(ErrorId::key_expired);
    case KeyStatus::quota_exceeded:
      return Decision::deny(ErrorId::quota_exceeded);
  }
  if (key.starts_at && now < *key.starts_at) return Decision::deny(ErrorId::key_not_yet_valid);
  if (key.expires_at && now >= *key.expires_at) return Decision::deny(ErrorId::key_expired);
  if (!key.ips.permits(client_ip)) return Decision::deny(ErrorId::ip_not_allowed);
  if (exhausted(key.quota, now, pending)) return Decision::deny(ErrorId::quota_exceeded);
  return Decision::allow();
}

}  // namespace llmproxy::auth
