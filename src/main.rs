fn main() {
    std::process::exit(halab::main());
}
