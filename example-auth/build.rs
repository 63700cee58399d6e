fn main() {
    migrations_build::run();
}
