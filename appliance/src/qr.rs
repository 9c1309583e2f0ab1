//! QR codes for the box's address: in the terminal at start-up, as SVG on the onboarding
//! page, and drawn into the room's access sheet (PDF), so a tablet can join the Wi-Fi and open
//! the box by pointing its camera instead of typing.

use qrcode::render::{svg, unicode};
use qrcode::{EcLevel, QrCode};

/// A QR code drawn with half-block characters, two modules per character row.
pub fn terminal(text: &str) -> Option<String> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).ok()?;
    Some(
        code.render::<unicode::Dense1x2>()
            .dark_color(unicode::Dense1x2::Light)
            .light_color(unicode::Dense1x2::Dark)
            .quiet_zone(true)
            .build(),
    )
}

/// A QR code as an SVG document.
pub fn svg(text: &str) -> Option<String> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).ok()?;
    Some(
        code.render::<svg::Color<'_>>()
            .min_dimensions(240, 240)
            .quiet_zone(true)
            .build(),
    )
}

/// The modules of a QR code, row by row (`true` is dark), and its width in modules, without
/// the quiet zone.
pub fn modules(text: &str) -> Option<(usize, Vec<bool>)> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).ok()?;
    let width = code.width();
    let dark = code
        .to_colors()
        .into_iter()
        .map(|c| c == qrcode::Color::Dark)
        .collect();
    Some((width, dark))
}

#[cfg(test)]
mod tests {
    #[test]
    fn renders_both_forms() {
        let t = super::terminal("https://phonghop-abc123.local/").unwrap();
        assert!(t.lines().count() > 10);
        assert!(super::svg("https://x/").unwrap().starts_with("<?xml"));
    }
}
