//! What every chart shares: the font (DejaVu Sans, embedded, registered with plotters once, so text is
//! laid out and rasterised the same on every machine, with no system fonts or fontconfig) and PNG
//! encoding of a bitmap-drawn chart.

use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;

/// DejaVu Sans 2.37 (Debian's fonts-dejavu-core), under the Bitstream Vera licence in
/// `assets/DejaVuSans.LICENSE`.
static DEJAVU_SANS: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");

/// Registers the embedded font as `sans-serif` (every style falls back to it). Call before drawing any
/// chart: plotters' `ab_glyph` text support knows only registered fonts.
pub fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The font is a fixed, valid file: failing to parse it is a build defect.
        plotters::style::register_font("sans-serif", FontStyle::Normal, DEJAVU_SANS)
            .unwrap_or_else(|_| panic!("the embedded DejaVu Sans does not parse"));
    });
}

/// Draws a `width` × `height` chart with `draw` on a bitmap and returns it as a PNG file's bytes.
pub fn png(
    (width, height): (u32, u32),
    draw: impl FnOnce(&DrawingArea<BitMapBackend<'_>, Shift>) -> Result<(), String>,
) -> Result<Vec<u8>, String> {
    register_font();
    let mut rgb = vec![0u8; width as usize * height as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (width, height)).into_drawing_area();
        draw(&root)?;
        root.present().map_err(|e| e.to_string())?;
    }
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
    writer.write_image_data(&rgb).map_err(|e| e.to_string())?;
    writer.finish().map_err(|e| e.to_string())?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A chart with text comes out as a PNG of the requested size, with the text drawn in dark pixels
    /// (the font is the embedded one: this machine's fonts play no part).
    #[test]
    fn png_charts_have_their_size_and_their_text() {
        let bytes = png((200, 80), |root| {
            root.fill(&WHITE).map_err(|e| e.to_string())?;
            root.draw(&Text::new("benchgate 1.23%", (10, 30), ("sans-serif", 20).into_font()))
                .map_err(|e| e.to_string())
        })
        .unwrap();
        let decoder = png::Decoder::new(std::io::Cursor::new(&bytes));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!((info.width, info.height, info.color_type), (200, 80, png::ColorType::Rgb));
        let dark = buf[..info.buffer_size()].chunks(3).filter(|p| p.iter().all(|&c| c < 128)).count();
        assert!(dark > 100, "{dark} dark pixels: the text was not drawn");
        let blank = png((200, 80), |root| root.fill(&WHITE).map_err(|e| e.to_string())).unwrap();
        assert_ne!(bytes, blank);
    }
}
