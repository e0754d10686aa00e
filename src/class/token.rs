//! A trainee's join token: what `halab join` needs to reach one lab of a class, in one line to
//! paste. It carries the class, the trainee, the lab's name on the server, the lesson, and LXD's
//! own one-time trust token (restricted to that lab's project), which is the only secret in it.
//!
//! Must not: run anything, or accept a token that does not parse whole (every name in it is
//! checked as the names a user types are).

use anyhow::Result;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use super::ClassName;
use crate::state::LabName;
use crate::ui::Problem;

/// What every halab join token starts with (and the format's version).
const PREFIX: &str = "halab-join-1.";

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
pub(crate) struct JoinToken {
    pub class: ClassName,
    pub trainee: String,
    /// The lab's name on the server.
    pub lab: LabName,
    pub lesson: String,
    /// LXD's trust token (base64 JSON with the server's addresses and fingerprint).
    pub lxd: String,
}

impl JoinToken {
    pub(crate) fn encode(&self) -> String {
        let json = serde_json::to_vec(self).expect("a token serialises");
        format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(json))
    }

    pub(crate) fn decode(s: &str) -> Result<JoinToken> {
        let bad = |why: &str| -> anyhow::Error {
            Problem::new(
                format!("this is not a halab join token ({why})"),
                "paste the whole token your instructor gave you (one line starting `halab-join-1.`)",
            )
            .into()
        };
        let body = s
            .trim()
            .strip_prefix(PREFIX)
            .ok_or_else(|| bad("it does not start with `halab-join-1.`"))?;
        let json = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| bad("it is cut or changed"))?;
        let t: JoinToken =
            serde_json::from_slice(&json).map_err(|_| bad("it is cut or changed"))?;
        super::parse_trainee(&t.trainee).map_err(|e| bad(&e))?;
        Ok(t)
    }

    /// When LXD's token stops being accepted, as LXD wrote it (RFC 3339), if it says.
    pub(crate) fn expires(&self) -> Option<String> {
        let json = base64::engine::general_purpose::STANDARD
            .decode(self.lxd.trim())
            .ok()?;
        let v: serde_json::Value = serde_json::from_slice(&json).ok()?;
        v["expires_at"]
            .as_str()
            .filter(|t| !t.starts_with("0001-"))
            .map(String::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token() -> JoinToken {
        JoinToken {
            class: ClassName::parse("ops1").unwrap(),
            trainee: "alice".into(),
            lab: "ops1-alice".parse().unwrap(),
            lesson: "tiny".into(),
            lxd: base64::engine::general_purpose::STANDARD
                .encode(r#"{"client_name":"x","expires_at":"2026-12-05T07:00:05Z"}"#),
        }
    }

    #[test]
    fn a_token_reads_back_whole_and_says_when_it_expires() {
        let t = token();
        let s = t.encode();
        assert!(
            s.starts_with(PREFIX) && !s.contains(char::is_whitespace),
            "{s}"
        );
        assert_eq!(JoinToken::decode(&format!("  {s}\n")).unwrap(), t);
        assert_eq!(t.expires().as_deref(), Some("2026-12-05T07:00:05Z"));
    }

    #[test]
    fn a_cut_changed_or_foreign_token_is_refused_saying_so() {
        let s = token().encode();
        for (bad, why) in [
            (&s[..s.len() - 9], "cut or changed"),
            ("eyJjbGllbnRfbmFtZSI6", "does not start"),
            (
                &s.replace("halab-join-1.", "halab-join-1.x"),
                "cut or changed",
            ),
        ] {
            let e = format!("{:#}", JoinToken::decode(bad).unwrap_err());
            assert!(e.contains(why), "{bad}: {e}");
        }
        // A lab name in it that is not one is refused like a typed one.
        let forged = format!(
            "{PREFIX}{}",
            URL_SAFE_NO_PAD.encode(
                r#"{"class":"ops1","trainee":"alice","lab":"../etc","lesson":"l","lxd":"x"}"#
            )
        );
        assert!(JoinToken::decode(&forged).is_err());
    }
}
