//! The Lua scripts. Amounts travel as 19-digit zero-padded counts of ten-thousandths
//! (`sortable::to_key`), compared as strings: Lua's numbers are doubles and
//! would round 18-digit amounts.

use std::sync::OnceLock;

use redis::Script;

/// Entry fields: `h` highest committed amount, `m` least next amount, `e` ends_at (ms).
const CHECK: &str = r#"
local v = redis.call('HMGET', KEYS[1], 'm', 'e')
if not v[1] or not v[2] then return false end
if tonumber(ARGV[2]) >= tonumber(v[2]) then return false end
if ARGV[1] < v[1] then return v[1] end
return false
"#;

/// Compare-and-set upward: a lower or equal amount never replaces a higher one.
pub const RAISE: &str = r#"
local cur = redis.call('HGET', KEYS[1], 'h')
if (not cur) or ARGV[1] > cur then
  redis.call('HSET', KEYS[1], 'h', ARGV[1], 'm', ARGV[2], 'e', ARGV[3])
  redis.call('EXPIRE', KEYS[1], ARGV[4])
  return 1
end
return 0
"#;

/// Returns the least amount needed when the probe is below it, else nil.
pub fn check() -> &'static Script {
    static S: OnceLock<Script> = OnceLock::new();
    S.get_or_init(|| Script::new(CHECK))
}
