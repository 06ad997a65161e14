//! Example applications, for the API documentation and for tests.

use crate::application::*;

/// A typical applicant the model rates safe: the first row of the data set.
pub fn good_applicant() -> CreditApplication {
    CreditApplication {
        status_of_existing_checking_account: CheckingAccount::BelowZero,
        duration_in_month: 6,
        credit_history: CreditHistory::Critical,
        purpose: Purpose::RadioTelevision,
        credit_amount: 1169.0,
        savings_account_and_bonds: Savings::UnknownOrNone,
        present_employment_since: Employment::AtLeastSevenYears,
        installment_rate_in_percentage_of_disposable_income: 4,
        personal_status_and_sex: PersonalStatus::MaleSingle,
        other_debtors_or_guarantors: OtherDebtors::None,
        present_residence_since: 4,
        property: Property::RealEstate,
        age_in_years: 67,
        other_installment_plans: InstallmentPlans::None,
        housing: Housing::Own,
        number_of_existing_credits_at_this_bank: 2,
        job: Job::Skilled,
        number_of_people_being_liable_to_provide_maintenance_for: 1,
        telephone: Telephone::Registered,
        foreign_worker: ForeignWorker::Yes,
        applicant_id: None,
    }
}

/// An applicant the model rates risky: a long, large credit with an
/// overdrawn account and no savings.
pub fn risky_applicant() -> CreditApplication {
    CreditApplication {
        status_of_existing_checking_account: CheckingAccount::BelowZero,
        duration_in_month: 48,
        credit_history: CreditHistory::NoneOrAllPaid,
        purpose: Purpose::Business,
        credit_amount: 15_000.0,
        savings_account_and_bonds: Savings::BelowHundred,
        present_employment_since: Employment::BelowOneYear,
        installment_rate_in_percentage_of_disposable_income: 4,
        personal_status_and_sex: PersonalStatus::FemaleDivorcedOrMarried,
        other_debtors_or_guarantors: OtherDebtors::None,
        present_residence_since: 1,
        property: Property::UnknownOrNone,
        age_in_years: 23,
        other_installment_plans: InstallmentPlans::Bank,
        housing: Housing::Rent,
        number_of_existing_credits_at_this_bank: 1,
        job: Job::UnskilledResident,
        number_of_people_being_liable_to_provide_maintenance_for: 1,
        telephone: Telephone::None,
        foreign_worker: ForeignWorker::Yes,
        applicant_id: None,
    }
}
