fn main() {
    halab::ui::init_colors();
    let cli = halab::cli::parse();
    let code = match halab::commands::dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            halab::ui::report_error(&e);
            2
        }
    };
    std::process::exit(code);
}
