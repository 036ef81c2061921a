// Syntax errors in `select!`, `join!` and `try_join!` point at the tokens
// at fault.

async fn no_branches() {
    vigil::select! {}
}

async fn missing_comma(a: std::future::Ready<u8>, b: std::future::Ready<u8>) {
    vigil::select! {
        x = a => x
        y = b => y,
    };
}

async fn two_else(a: std::future::Ready<u8>) {
    vigil::select! {
        x = a => x,
        else => 0,
        else => 1,
    };
}

async fn missing_arrow(a: std::future::Ready<u8>) {
    vigil::select! {
        x = a, if true x
    };
}

async fn join_without_commas() {
    vigil::join!(async {} async {});
}

async fn try_join_of_non_results() {
    let _ = vigil::try_join!(async { 1 }, async { 2 });
}

fn main() {}
