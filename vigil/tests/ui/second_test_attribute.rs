#[vigil::test]
#[test]
async fn plain_test_attribute() {}

#[vigil::test]
#[should_panic]
#[vigil::test]
async fn twice() {}

fn main() {}
