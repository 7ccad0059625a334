//! A region's description: as `key: value` text, as a table row, as JSON.

use crate::elements::type_name;
use crate::Failure;
use serde_json::{json, Value};
use shmarray::{LockState, Origin, RegionInfo};

/// `inspect`.
pub fn inspect(origin: &Origin, as_json: bool) -> Result<(), Failure> {
    let info = crate::region::inspect(origin)?;
    if as_json {
        println!("{}", to_json(&info));
        return Ok(());
    }
    let rows = [
        ("name", info.name.clone().unwrap_or_else(|| "-".into())),
        ("path", info.path.display().to_string()),
        ("layout", info.layout.to_string()),
        (
            "type",
            format!(
                "{} ('{}')",
                type_name(info.type_code),
                info.type_code.as_char()
            ),
        ),
        ("length", info.len.to_string()),
        ("stripes", info.stripes.to_string()),
        ("bytes", info.bytes.to_string()),
        ("seqlock", on_off(info.seqlock).into()),
        ("version", info.version.to_string()),
        ("mode", mode(info.mode)),
        ("owner", owner(info.uid)),
        (
            "in use",
            if info.in_use { "yes" } else { "no (stale)" }.into(),
        ),
        ("lock", lock(info.lock)),
        (
            "seqlock counter",
            format!(
                "{}{}",
                info.seq,
                if info.write_open() {
                    " (write open)"
                } else {
                    ""
                }
            ),
        ),
    ];
    for (key, value) in rows {
        println!("{:<17}{value}", format!("{key}:"));
    }
    Ok(())
}

fn on_off(b: bool) -> &'static str {
    if b {
        "on"
    } else {
        "off"
    }
}

/// `in use` or `stale`.
pub fn in_use(b: bool) -> &'static str {
    if b {
        "in use"
    } else {
        "stale"
    }
}

/// Permission bits as `ls` shows them in octal: `0600`.
pub fn mode(bits: u32) -> String {
    format!("{bits:04o}")
}

/// A user's name, or the number when it has none.
pub fn owner(uid: u32) -> String {
    match nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid)) {
        Ok(Some(user)) => user.name,
        _ => uid.to_string(),
    }
}

/// The lock's state in words.
pub fn lock(state: LockState) -> String {
    match state {
        LockState::Free => "free".into(),
        LockState::Held { holder: Some(tid) } => format!("held by thread {tid}"),
        LockState::Held { holder: None } => "held".into(),
        LockState::OwnerDied { held: false } => "owner died, not repaired".into(),
        LockState::OwnerDied { held: true } => "owner died, not repaired; held now".into(),
        _ => "unknown".into(),
    }
}

/// The lock's state as JSON: `{"state": "free" | "held" | "owner_died" | "unknown",
/// "holder": tid or null, "held": bool}`.
fn lock_json(state: LockState) -> Value {
    match state {
        LockState::Free => json!({"state": "free", "held": false, "holder": null}),
        LockState::Held { holder } => json!({"state": "held", "held": true, "holder": holder}),
        LockState::OwnerDied { held } => {
            json!({"state": "owner_died", "held": held, "holder": null})
        }
        _ => json!({"state": "unknown", "held": null, "holder": null}),
    }
}

/// Everything `RegionInfo` holds, as one JSON object.
pub fn to_json(info: &RegionInfo) -> Value {
    json!({
        "name": info.name,
        "path": info.path.display().to_string(),
        "layout": info.layout.to_string(),
        "type": type_name(info.type_code),
        "type_code": info.type_code.as_char().to_string(),
        "len": info.len,
        "stripes": info.stripes,
        "bytes": info.bytes,
        "seqlock": info.seqlock,
        "version": info.version,
        "mode": mode(info.mode),
        "uid": info.uid,
        "gid": info.gid,
        "owner": owner(info.uid),
        "in_use": info.in_use,
        "lock": lock_json(info.lock),
        "seq": info.seq,
        "write_open": info.write_open(),
    })
}
